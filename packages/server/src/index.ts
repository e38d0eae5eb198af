/**
 * @module @stello-ai/server
 */
export {};
