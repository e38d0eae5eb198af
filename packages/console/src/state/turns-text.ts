/** "1 turn", "3 turns". */
export function turnsText(count: number): string {
  return count === 1 ? '1 turn' : `${count} turns`;
}
