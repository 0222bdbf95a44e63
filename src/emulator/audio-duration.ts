/**
 * How long an enrollment's audio lasts, from its bytes. WAV is read from its RIFF header (data chunk size
 * over byte rate), so it is exact whatever the sample rate: a 20.7 s CD-quality WAV was once reported as
 * 228 s by a flat 16 kB/s estimate. MP3 (`Mpeg`) is read from its first frame's bitrate, exact for
 * constant bitrate and an estimate for variable. Everything else is estimated, see below.
 */

/** WAV content without a RIFF header is taken as headerless telephone PCM: 8 kHz, 16-bit, mono. */
const RAW_PCM_BYTES_PER_S = 16_000;
/**
 * The estimate for compressed formats whose bitrate we do not read (Mp4, Aac, Ogg, Webm, Avi, Webp, or
 * an MP3 without a readable frame): 64 kbps, mid-range for compressed speech, so speech coded at 32–128
 * kbps is counted within a factor of two.
 */
const COMPRESSED_BYTES_PER_S = 8_000;

export function audioDurationS(encoding: string, audio: Buffer): number {
  if (encoding === 'Wav') return wavDurationS(audio) ?? audio.length / RAW_PCM_BYTES_PER_S;
  if (encoding === 'Mpeg') {
    const bitsPerS = mp3BitrateBps(audio);
    if (bitsPerS !== null) return (audio.length * 8) / bitsPerS;
  }
  return audio.length / COMPRESSED_BYTES_PER_S;
}

/**
 * Walks the RIFF chunks for `fmt ` (byte rate at offset 8 of its data) and `data`. A data size larger
 * than what was sent (a header written before streaming, 0xFFFFFFFF) is cut to the bytes present.
 * Null when this is no RIFF/WAVE or has no usable byte rate.
 */
export function wavDurationS(audio: Buffer): number | null {
  if (audio.length < 12 || audio.toString('latin1', 0, 4) !== 'RIFF' || audio.toString('latin1', 8, 12) !== 'WAVE') {
    return null;
  }
  let byteRate = 0;
  for (let at = 12; at + 8 <= audio.length;) {
    const id = audio.toString('latin1', at, at + 4);
    const size = audio.readUInt32LE(at + 4);
    const body = at + 8;
    if (id === 'fmt ' && body + 12 <= audio.length) byteRate = audio.readUInt32LE(body + 8);
    if (id === 'data') {
      if (byteRate === 0) return null;
      return Math.min(size, audio.length - body) / byteRate;
    }
    at = body + size + (size % 2); // chunks are padded to an even length
  }
  return null;
}

// MPEG audio bitrates in kbps by bitrate index (1–14), for MPEG-1 and for MPEG-2/2.5, per layer.
const MPEG1_KBPS: Record<number, number[]> = {
  1: [32, 64, 96, 128, 160, 192, 224, 256, 288, 320, 352, 384, 416, 448],
  2: [32, 48, 56, 64, 80, 96, 112, 128, 160, 192, 224, 256, 320, 384],
  3: [32, 40, 48, 56, 64, 80, 96, 112, 128, 160, 192, 224, 256, 320],
};
const MPEG2_KBPS: Record<number, number[]> = {
  1: [32, 48, 56, 64, 80, 96, 112, 128, 144, 160, 176, 192, 224, 256],
  2: [8, 16, 24, 32, 40, 48, 56, 64, 80, 96, 112, 128, 144, 160],
  3: [8, 16, 24, 32, 40, 48, 56, 64, 80, 96, 112, 128, 144, 160],
};

/** The bitrate of the first MPEG audio frame, after an ID3v2 tag if there is one; null if none is found. */
function mp3BitrateBps(audio: Buffer): number | null {
  let at = 0;
  if (audio.length >= 10 && audio.toString('latin1', 0, 3) === 'ID3') {
    // The tag size is "syncsafe": 7 bits per byte.
    at = 10 + ((audio[6]! << 21) | (audio[7]! << 14) | (audio[8]! << 7) | audio[9]!);
  }
  const searchEnd = Math.min(audio.length - 4, at + 64 * 1024);
  for (; at <= searchEnd; at++) {
    if (audio[at] !== 0xff || (audio[at + 1]! & 0xe0) !== 0xe0) continue;
    const version = (audio[at + 1]! >> 3) & 3; // 3 = MPEG-1, 2 = MPEG-2, 0 = MPEG-2.5, 1 reserved
    const layer = 4 - ((audio[at + 1]! >> 1) & 3); // 1–3; 4 is reserved
    const index = audio[at + 2]! >> 4;
    if (version === 1 || layer === 4 || index === 0 || index === 15) continue;
    const kbps = (version === 3 ? MPEG1_KBPS : MPEG2_KBPS)[layer]![index - 1]!;
    return kbps * 1000;
  }
  return null;
}
