/**
 * @module @stello-ai/db
 */
export {};
