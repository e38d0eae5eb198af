/**
 * @module @stello-ai/storage
 */
export {};
