/**
 * Script-aware token estimate for models without a local tokenizer (Anthropic, unknown models).
 * Each character class gets the cost the BPE tokenizers charge it, rounded up: ideographs, kana
 * and hangul cost about a token each (often more in older vocabularies), emoji several, while
 * Latin words, digit groups and whitespace runs merge into few tokens. Calibrated against
 * cl100k_base and o200k_base on the corpus in `estimate-text-tokens.test.ts` so it does not
 * undercount either by more than 10%.
 */

// Per-character costs of the scripts that BPE vocabularies split finely.
const CJK_COST = 1.2;
const KANA_COST = 1.1;
const HANGUL_COST = 1.2;
const EMOJI_COST = 2.5;
// Combining marks, variation selectors and joiners inside emoji sequences.
const JOINER_COST = 1;
// Thai and the Indic scripts: about a token per character in cl100k.
const THAI_INDIC_COST = 1.05;
// Cyrillic and Greek: about two letters per token.
const CYRILLIC_GREEK_COST = 0.6;
// Everything else outside ASCII (Arabic, Hebrew, accented Latin…).
const OTHER_COST = 0.8;
// ASCII punctuation and symbols: often merged in pairs in code (`});`, `=>`).
const PUNCTUATION_COST = 0.75;
// A word of ASCII letters: one token per started five letters.
const LETTERS_PER_TOKEN = 5;
// Digits are grouped by at most three in both OpenAI vocabularies.
const DIGITS_PER_TOKEN = 3;

type CharClass = 'letter' | 'digit' | 'space' | 'other';

function isCjk(cp: number): boolean {
  return (
    (cp >= 0x4e00 && cp <= 0x9fff) ||
    (cp >= 0x3400 && cp <= 0x4dbf) ||
    (cp >= 0x20000 && cp <= 0x2ffff) ||
    (cp >= 0xf900 && cp <= 0xfaff) ||
    (cp >= 0x3000 && cp <= 0x303f) ||
    (cp >= 0xff00 && cp <= 0xffef)
  );
}

function isKana(cp: number): boolean {
  return cp >= 0x3040 && cp <= 0x30ff;
}

function isHangul(cp: number): boolean {
  return (cp >= 0xac00 && cp <= 0xd7af) || (cp >= 0x1100 && cp <= 0x11ff) || (cp >= 0x3130 && cp <= 0x318f);
}

function isEmoji(cp: number): boolean {
  return (cp >= 0x1f000 && cp <= 0x1faff) || (cp >= 0x2600 && cp <= 0x27bf);
}

function isJoiner(cp: number): boolean {
  return (
    cp === 0x200d ||
    (cp >= 0xfe00 && cp <= 0xfe0f) ||
    (cp >= 0x0300 && cp <= 0x036f) ||
    (cp >= 0x1f3fb && cp <= 0x1f3ff)
  );
}

/** Estimates the tokens of `text`; never less than the number of its non-space runs would suggest. */
export function estimateTextTokens(text: string): number {
  let tokens = 0;
  let run: CharClass | null = null;
  let runLength = 0;
  let runHasNewline = false;
  let nextIsDigit = false;
  const closeRun = (): void => {
    if (run === 'letter') tokens += Math.ceil(runLength / LETTERS_PER_TOKEN);
    else if (run === 'digit') tokens += Math.ceil(runLength / DIGITS_PER_TOKEN);
    // A single space joins the next word; longer runs (indentation, blank lines) are tokens of their own.
    // So is a space before a digit: the OpenAI vocabularies never merge the two.
    else if (run === 'space' && (runLength > 1 || runHasNewline || nextIsDigit)) tokens += 1;
    run = null;
    runLength = 0;
    runHasNewline = false;
  };
  for (const char of text) {
    const cp = char.codePointAt(0)!;
    let kind: CharClass;
    if ((cp >= 0x61 && cp <= 0x7a) || (cp >= 0x41 && cp <= 0x5a)) kind = 'letter';
    else if (cp >= 0x30 && cp <= 0x39) kind = 'digit';
    else if (cp === 0x20 || cp === 0x09 || cp === 0x0a || cp === 0x0d) kind = 'space';
    else kind = 'other';
    if (kind !== run) {
      nextIsDigit = kind === 'digit';
      closeRun();
    }
    if (kind !== 'other') {
      run = kind;
      runLength += 1;
      if (cp === 0x0a) runHasNewline = true;
      continue;
    }
    if (cp < 0x80) tokens += PUNCTUATION_COST;
    else if (isCjk(cp)) tokens += CJK_COST;
    else if (isKana(cp)) tokens += KANA_COST;
    else if (isHangul(cp)) tokens += HANGUL_COST;
    else if (isJoiner(cp)) tokens += JOINER_COST;
    else if (isEmoji(cp)) tokens += EMOJI_COST;
    else if (cp >= 0x0370 && cp <= 0x04ff) tokens += CYRILLIC_GREEK_COST;
    else if (cp >= 0x0900 && cp <= 0x0e7f) tokens += THAI_INDIC_COST;
    else tokens += OTHER_COST;
  }
  closeRun();
  return Math.ceil(tokens);
}
