type Cell = readonly [row: number, column: number];

/** Where each digit sits: a phone keypad (1 2 3 on top, 0 below 8) and a computer's numeric keypad (7 8 9 on top, a wide 0 below 1 and 2). */
const KEYPADS: ReadonlyArray<Readonly<Record<string, readonly Cell[]>>> = [
  { 1: [[0, 0]], 2: [[0, 1]], 3: [[0, 2]], 4: [[1, 0]], 5: [[1, 1]], 6: [[1, 2]], 7: [[2, 0]], 8: [[2, 1]], 9: [[2, 2]], 0: [[3, 1]] },
  { 7: [[0, 0]], 8: [[0, 1]], 9: [[0, 2]], 4: [[1, 0]], 5: [[1, 1]], 6: [[1, 2]], 1: [[2, 0]], 2: [[2, 1]], 3: [[2, 2]], 0: [[3, 0], [3, 1]] },
];

/** The directions (as "dRow,dColumn") in which `to` is a neighbour of `from`, diagonals included. */
function stepsBetween(keypad: Readonly<Record<string, readonly Cell[]>>, from: string, to: string): Set<string> {
  const steps = new Set<string>();
  // Pressing a key twice is no step, though the wide 0 of a numeric keypad spans two cells.
  if (from === to) return steps;
  for (const [fromRow, fromColumn] of keypad[from]) {
    for (const [toRow, toColumn] of keypad[to]) {
      const [rows, columns] = [toRow - fromRow, toColumn - fromColumn];
      if ((rows !== 0 || columns !== 0) && Math.abs(rows) <= 1 && Math.abs(columns) <= 1) steps.add(`${rows},${columns}`);
    }
  }
  return steps;
}

/** Whether the digits can be typed as a walk over neighbouring keys that turns at most once. */
function isStraightWalk(keypad: Readonly<Record<string, readonly Cell[]>>, pin: string): boolean {
  // Each reachable state: the direction of the last step and the number of turns so far.
  let states = new Map<string, number>([['', 0]]);
  for (let i = 1; i < pin.length; i += 1) {
    const next = new Map<string, number>();
    for (const step of stepsBetween(keypad, pin[i - 1], pin[i])) {
      for (const [previous, turns] of states) {
        const total = turns + (previous !== '' && previous !== step ? 1 : 0);
        if (total <= 1 && total < (next.get(step) ?? Infinity)) next.set(step, total);
      }
    }
    if (next.size === 0) return false;
    states = next;
  }
  return true;
}

/** Lines, columns, diagonals and L-shapes on either keypad: 2580, 0852, 1470, 3698, 7410, 9630. */
export function isKeypadPattern(pin: string): boolean {
  return KEYPADS.some((keypad) => isStraightWalk(keypad, pin));
}
