import { describe, expect, it } from 'vitest';
import { audioDurationS, wavDurationS } from '../../src/emulator/audio-duration.js';
import { Enrollments } from '../../src/emulator/enrollments.js';
import { startEmulator } from '../helpers/emulator-client.js';

/** A valid PCM WAV of silence: RIFF header, `fmt `, optionally a LIST chunk before `data`. */
function wav(seconds: number, sampleRate: number, channels: number, bits: number, withList = false): Buffer {
  const blockAlign = (channels * bits) / 8;
  const dataBytes = Math.round(seconds * sampleRate) * blockAlign;
  const fmt = Buffer.alloc(8 + 16);
  fmt.write('fmt ', 0, 'latin1');
  fmt.writeUInt32LE(16, 4);
  fmt.writeUInt16LE(1, 8); // PCM
  fmt.writeUInt16LE(channels, 10);
  fmt.writeUInt32LE(sampleRate, 12);
  fmt.writeUInt32LE(sampleRate * blockAlign, 16);
  fmt.writeUInt16LE(blockAlign, 20);
  fmt.writeUInt16LE(bits, 22);
  // An odd-sized chunk, padded to even, as tag writers leave them.
  const list = Buffer.concat([Buffer.from('LIST', 'latin1'), Buffer.from([5, 0, 0, 0]), Buffer.from('INFOx\0')]);
  const dataHeader = Buffer.alloc(8);
  dataHeader.write('data', 0, 'latin1');
  dataHeader.writeUInt32LE(dataBytes, 4);
  const body = Buffer.concat([fmt, ...(withList ? [list] : []), dataHeader, Buffer.alloc(dataBytes)]);
  const riff = Buffer.alloc(12);
  riff.write('RIFF', 0, 'latin1');
  riff.writeUInt32LE(4 + body.length, 4);
  riff.write('WAVE', 8, 'latin1');
  return Buffer.concat([riff, body]);
}

const enroll = (speakerId: string, audio: Buffer, encoding = 'Wav') =>
  new Enrollments().create({ speakerId, encoding, content: audio.toString('base64') }) as {
    status: number;
    body: { totalEnrollDuration: number; totalSpeechDuration: number; enrollmentComplete: boolean };
  };

describe('enrollment audio duration', () => {
  it('reads a WAV duration from its RIFF header, whatever the sample rate', () => {
    // 8 kHz mono 16-bit: the flat 16 kB/s estimate happened to fit this one.
    expect(enroll('tel', wav(20.7, 8000, 1, 16))).toMatchObject({ status: 201, body: { totalEnrollDuration: 20.7 } });
    // 44.1 kHz stereo 16-bit, 20.7 s: reported as 228 s before.
    const cd = enroll('cd', wav(20.7, 44_100, 2, 16, true));
    expect(cd.status).toBe(201);
    expect(cd.body.totalEnrollDuration).toBeCloseTo(20.7, 1);
    expect(cd.body.totalSpeechDuration).toBeCloseTo(16.56, 1);
    // 16 kHz mono 16-bit, 9 s: 7.2 s of speech, accepted but not complete (it counted as 18 s before).
    expect(enroll('short', wav(9, 16_000, 1, 16))).toMatchObject({
      status: 201,
      body: { totalEnrollDuration: 9, enrollmentComplete: false },
    });
  });

  it('cuts a data size larger than the bytes sent, and falls back for content that is not RIFF', () => {
    const streamed = wav(10, 8000, 1, 16);
    streamed.writeUInt32LE(0xffffffff, 40); // the data chunk's size, as a streaming writer leaves it
    expect(wavDurationS(streamed)).toBeCloseTo(10, 5);
    expect(wavDurationS(Buffer.from('RIFF\0\0\0\0WAVE'))).toBeNull();
    expect(audioDurationS('Wav', Buffer.alloc(16_000 * 10))).toBe(10);
  });

  it('reads an MP3 bitrate from its first frame, after an ID3 tag, and estimates other formats', () => {
    // ID3v2 header with a 20-byte tag, then an MPEG-1 Layer III frame header at 32 kbps (index 1).
    const id3 = Buffer.concat([Buffer.from('ID3', 'latin1'), Buffer.from([4, 0, 0, 0, 0, 0, 20]), Buffer.alloc(20)]);
    const frame = Buffer.from([0xff, 0xfb, 0x10, 0x44]);
    const mp3 = Buffer.concat([id3, frame, Buffer.alloc(4000 * 30 - id3.length - 4)]);
    expect(audioDurationS('Mpeg', mp3)).toBeCloseTo(30, 5);
    expect(audioDurationS('Ogg', Buffer.alloc(8000 * 30))).toBe(30);
  });

  it('enrolls a 20.7 s CD-quality WAV over HTTP as 20.7 s', async () => {
    const h = await startEmulator();
    try {
      const response = await fetch(`${h.base}/ai/audio/v1/enrollments`, {
        method: 'POST',
        headers: { authorization: `Bearer ${h.token}`, 'content-type': 'application/json' },
        body: JSON.stringify({
          speakerId: 'agent_cd',
          encoding: 'Wav',
          content: wav(20.7, 44_100, 2, 16).toString('base64'),
        }),
      });
      expect(response.status).toBe(201);
      const body = (await response.json()) as { totalEnrollDuration: number };
      expect(body.totalEnrollDuration).toBeCloseTo(20.7, 1);
    } finally {
      await h.close();
    }
  });
});
