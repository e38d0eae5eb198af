/**
 * @module @stello-ai/runtime
 */
export {};
