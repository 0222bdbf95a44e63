/**
 * The RingCentral error body (reference §8): `errors[]` of `{errorCode, message, parameterName?}`, with the
 * first error repeated at the top level as real platform bodies do. Clients switch on `errorCode`.
 */
export interface PlatformErrorItem {
  errorCode: string;
  message: string;
  parameterName?: string;
}

export interface PlatformErrorBody extends PlatformErrorItem {
  errors: PlatformErrorItem[];
}

export function platformError(errorCode: string, message: string, parameterName?: string): PlatformErrorBody {
  const item: PlatformErrorItem =
    parameterName === undefined ? { errorCode, message } : { errorCode, message, parameterName };
  return { ...item, errors: [item] };
}
