import { isCodedError } from '@stello-ai/session';
import { describe, expect, it } from 'vitest';
import { ConnectionManager } from './connection-manager';

describe('ConnectionManager', () => {
  it('binds a connection with no entered session', () => {
    const connections = new ConnectionManager();
    connections.bind('c1', 'u1', 's1');
    expect(connections.getState('c1')).toEqual({
      connectionId: 'c1',
      userId: 'u1',
      spaceId: 's1',
      sessionId: null,
    });
    expect(connections.size).toBe(1);
  });

  it('returns null for the state of an unknown connection', () => {
    expect(new ConnectionManager().getState('nope')).toBeNull();
  });

  it('returns a copy of the state so callers cannot mutate it', () => {
    const connections = new ConnectionManager();
    connections.bind('c1', 'u1', 's1');
    const state = connections.getState('c1')!;
    state.sessionId = 'forged';
    expect(connections.getState('c1')?.sessionId).toBeNull();
  });

  it('attaches and replaces the entered session when the connection is bound', () => {
    const connections = new ConnectionManager();
    connections.bind('c1', 'u1', 's1');
    connections.attachSession('c1', 'session-a');
    expect(connections.getState('c1')?.sessionId).toBe('session-a');
    connections.attachSession('c1', 'session-b');
    expect(connections.getState('c1')?.sessionId).toBe('session-b');
  });

  it('throws CONNECTION_NOT_BOUND when attaching to an unknown connection', () => {
    const connections = new ConnectionManager();
    let caught: unknown;
    try {
      connections.attachSession('ghost', 'session-a');
    } catch (error) {
      caught = error;
    }
    expect(isCodedError(caught, 'CONNECTION_NOT_BOUND')).toBe(true);
    expect(connections.size).toBe(0);
  });

  it('detaches and returns the previous session id when one was entered', () => {
    const connections = new ConnectionManager();
    connections.bind('c1', 'u1', 's1');
    connections.attachSession('c1', 'session-a');
    expect(connections.detachSession('c1')).toBe('session-a');
    expect(connections.getState('c1')?.sessionId).toBeNull();
    expect(connections.detachSession('c1')).toBeNull();
  });

  it('returns null when detaching an unknown connection', () => {
    expect(new ConnectionManager().detachSession('ghost')).toBeNull();
  });

  it('unbinds and returns the final state when the connection is known', () => {
    const connections = new ConnectionManager();
    connections.bind('c1', 'u1', 's1');
    connections.bind('c2', 'u2', 's2');
    connections.attachSession('c1', 'session-a');
    expect(connections.unbind('c1')).toEqual({
      connectionId: 'c1',
      userId: 'u1',
      spaceId: 's1',
      sessionId: 'session-a',
    });
    expect(connections.getState('c1')).toBeNull();
    expect(connections.size).toBe(1);
    expect(connections.unbind('c1')).toBeNull();
  });

  it('resets the state when an id is bound again', () => {
    const connections = new ConnectionManager();
    connections.bind('c1', 'u1', 's1');
    connections.attachSession('c1', 'session-a');
    connections.bind('c1', 'u1', 's2');
    expect(connections.getState('c1')).toEqual({
      connectionId: 'c1',
      userId: 'u1',
      spaceId: 's2',
      sessionId: null,
    });
    expect(connections.size).toBe(1);
  });
});
