// The size limits of the wire contract, shared by the server that enforces them and the clients
// that want to check input before sending it.

/** Longest accepted space or session label, in characters. */
export const LABEL_MAX_CHARS = 200;
/** Longest accepted fork scope, in characters. */
export const SCOPE_MAX_CHARS = 200;
/** Longest accepted turn input, in characters (the body limit applies too). */
export const INPUT_MAX_CHARS = 100_000;
/** Longest accepted prompt or slot content, in characters (the body limit applies too). */
export const CONTENT_MAX_CHARS = 200_000;
/** Largest page of `GET …/messages?limit=` and `GET /spaces?limit=`. */
export const PAGE_MAX_LIMIT = 1000;

/**
 * A UUID of any version, either case (the ids the server mints, and the ones clients choose for
 * turns). Written without the `i` flag so that JSON Schema, which has no flags, reads it the same.
 */
export const UUID_PATTERN = /^[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}$/;
