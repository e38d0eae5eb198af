import { describe, expect, it } from 'vitest';
import { nodeVersionProblem } from './require-node';

describe('nodeVersionProblem', () => {
  it('refuses a Node older than 22 in one line and accepts 22 and newer', () => {
    expect(nodeVersionProblem('v20.20.2')).toBe(
      'Stello Server needs Node.js 22 or newer (this is v20.20.2): install a current Node.js',
    );
    expect(nodeVersionProblem('v22.12.0')).toBeNull();
    expect(nodeVersionProblem('v24.21.0')).toBeNull();
  });
});
