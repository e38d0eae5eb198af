/**
 * @module @stello-ai/transport
 */
export {};
