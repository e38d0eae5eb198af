/**
 * Parses a tool call's JSON arguments text. Models sometimes emit invalid or non-object JSON; the
 * call then gets `{}` rather than failing the whole turn (the tool's own validation reports it).
 */
export function parseToolArguments(text: string | null | undefined): Record<string, unknown> {
  if (!text) return {};
  try {
    const value: unknown = JSON.parse(text);
    return value !== null && typeof value === 'object' && !Array.isArray(value)
      ? (value as Record<string, unknown>)
      : {};
  } catch {
    return {};
  }
}
