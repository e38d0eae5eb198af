import { describe, expect, it } from 'vitest';
import { agentPoolLimitsFromEnv, limitsFromEnv, poolTimeoutsFromEnv } from './limits-from-env';

describe('limits from the environment', () => {
  it('reads every documented variable and leaves unset ones to their defaults', () => {
    expect(
      limitsFromEnv({
        STELLO_LIST_BYTES: '1024',
        STELLO_WS_CONNECTIONS_PER_USER: '4',
        STELLO_HEADERS_TIMEOUT_MS: '',
      }),
    ).toEqual({ listBytes: 1024, wsConnectionsPerUser: 4 });
    expect(limitsFromEnv({ STELLO_TURNS_PER_MINUTE: '60', STELLO_STREAMS_PER_KEY: '4' })).toEqual({
      turnsPerMinute: 60,
      streamsPerKey: 4,
    });
    expect(
      poolTimeoutsFromEnv({ STELLO_STATEMENT_TIMEOUT_MS: '0', STELLO_CONNECT_TIMEOUT_MS: '2500' }),
    ).toEqual({
      statementTimeoutMillis: 0,
      connectionTimeoutMillis: 2500,
    });
    expect(agentPoolLimitsFromEnv({ STELLO_MIN_CONSOLIDATE_EVERY_N_TURNS: '6' })).toEqual({
      minConsolidateEveryNTurns: 6,
    });
  });

  it('refuses a malformed value, naming the variable', () => {
    expect(() => limitsFromEnv({ STELLO_LIST_BYTES: 'lots' })).toThrow(/STELLO_LIST_BYTES/);
    expect(() => limitsFromEnv({ STELLO_MAX_CONNECTIONS: '0' })).toThrow(/STELLO_MAX_CONNECTIONS/);
    expect(() => limitsFromEnv({ STELLO_TURNS_PER_MINUTE: '1.5' })).toThrow(/STELLO_TURNS_PER_MINUTE/);
    expect(() => poolTimeoutsFromEnv({ STELLO_STATEMENT_TIMEOUT_MS: '-1' })).toThrow(
      /STELLO_STATEMENT_TIMEOUT_MS/,
    );
  });
});
