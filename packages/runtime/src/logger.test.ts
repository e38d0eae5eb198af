import { describe, expect, it } from 'vitest';
import { RuntimeError } from './errors';
import { createJsonLogger, isLogThreshold, type LogThreshold, silentLogger, withLogContext } from './logger';

function capture(level?: LogThreshold) {
  const lines: string[] = [];
  const logger = createJsonLogger({ level, write: (line) => lines.push(line) });
  const parsed = () => lines.map((line) => JSON.parse(line) as Record<string, unknown>);
  return { logger, lines, parsed };
}

describe('createJsonLogger', () => {
  it('writes one JSON line with time, level, event and fields', () => {
    const { logger, lines, parsed } = capture();
    logger.info('space.created', { spaceId: 's1', count: 2 });
    expect(lines).toHaveLength(1);
    expect(lines[0]).not.toContain('\n');
    const [entry] = parsed();
    expect(entry).toMatchObject({ level: 'info', event: 'space.created', spaceId: 's1', count: 2 });
    expect(Number.isNaN(Date.parse(String(entry?.time)))).toBe(false);
  });

  it('drops events below the threshold when a level is set', () => {
    const { logger, parsed } = capture('warn');
    logger.info('a');
    logger.warn('b');
    logger.error('c');
    expect(parsed().map((entry) => entry.event)).toEqual(['b', 'c']);
  });

  it('writes nothing when the level is silent', () => {
    const { logger, lines } = capture('silent');
    logger.error('boom');
    expect(lines).toEqual([]);
  });

  it('keeps time, level and event when fields try to override them', () => {
    const { logger, parsed } = capture();
    logger.warn('real', { level: 'info', event: 'fake', time: 'never' });
    expect(parsed()[0]).toMatchObject({ level: 'warn', event: 'real' });
    expect(parsed()[0]?.time).not.toBe('never');
  });

  it('expands errors with their code when an error is a field', () => {
    const { logger, parsed } = capture();
    logger.error('job.failed', { error: new RuntimeError('SPACE_NOT_FOUND', 'space "x" not found') });
    expect(parsed()[0]?.error).toMatchObject({
      name: 'RuntimeError',
      message: 'space "x" not found',
      code: 'SPACE_NOT_FOUND',
    });
  });

  it('never writes an API key when one is passed in a field or in text', () => {
    const key = `stello_${'A'.repeat(43)}`;
    const { logger, lines } = capture();
    logger.info('auth', { apiKey: key, headers: { 'x-api-key': key, authorization: `Bearer ${key}` } });
    logger.error('oops', { error: new Error(`bad key ${key}`), note: `saw ${key}` });
    logger.warn(`event with ${key}`);
    for (const line of lines) expect(line).not.toContain(key);
    expect(lines.join('\n')).toContain('[redacted]');
  });

  it('never writes a prompt, an answer or an LLM credential', () => {
    const prompt = 'my secret diary entry 4711';
    const { logger, lines } = capture();
    logger.info('turn', {
      input: prompt,
      nested: { messages: [{ role: 'user', content: prompt }], systemPrompt: prompt },
      baseURL: 'https://user:hunter2pass@llm.example.com/v1?api_key=abcdef123456',
      header: 'Bearer sk-abcdefghijklmnopqrstuvwx',
    });
    const text = lines.join('\n');
    for (const secret of [prompt, 'hunter2pass', 'abcdef123456', 'sk-abcdefghijklmnopqrstuvwx']) {
      expect(text).not.toContain(secret);
    }
    expect(JSON.parse(lines[0]!).baseURL).toBe('https://[redacted]@llm.example.com/v1?api_key=[redacted]');
  });

  it('adds the fields of the surrounding log context (the request id) to every line', async () => {
    const { logger, parsed } = capture();
    await withLogContext({ requestId: 'req-1' }, async () => {
      await Promise.resolve();
      logger.info('inside', { spaceId: 's' });
      withLogContext({ connectionId: 'c' }, () => logger.warn('nested'));
    });
    logger.info('outside');
    expect(parsed()).toMatchObject([
      { event: 'inside', requestId: 'req-1', spaceId: 's' },
      { event: 'nested', requestId: 'req-1', connectionId: 'c' },
      { event: 'outside' },
    ]);
    expect(parsed()[2]).not.toHaveProperty('requestId');
  });

  it('takes pino level names as the threshold (LOG_LEVEL)', () => {
    expect(isLogThreshold('debug')).toBe(true);
    expect(isLogThreshold('verbose')).toBe(false);
    const debug = capture('debug');
    debug.logger.info('a');
    expect(debug.parsed().map((entry) => entry.event)).toEqual(['a']);
    const error = capture('error');
    error.logger.info('a');
    error.logger.warn('b');
    error.logger.error('c');
    expect(error.parsed().map((entry) => entry.event)).toEqual(['c']);
  });

  it('still writes the event when a field cannot be serialized', () => {
    const { logger, parsed } = capture();
    const cyclic: Record<string, unknown> = {};
    cyclic.self = cyclic;
    logger.info('cyclic', { cyclic, big: 1n });
    expect(parsed()[0]).toMatchObject({ event: 'cyclic', logError: 'unserializable fields' });
  });

  it('serializes bigint fields as strings', () => {
    const { logger, parsed } = capture();
    logger.info('big', { big: 12345678901234567890n });
    expect(parsed()[0]?.big).toBe('12345678901234567890');
  });
});

describe('silentLogger', () => {
  it('accepts every level without writing', () => {
    expect(() => {
      silentLogger.info('a', { x: 1 });
      silentLogger.warn('b');
      silentLogger.error('c');
    }).not.toThrow();
  });
});
