export { CodedError, type CodedErrorOptions, isCodedError } from './coded-error';
export type { StorageErrorCode } from './storage-codes';
