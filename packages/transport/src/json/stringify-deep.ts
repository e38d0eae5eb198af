// JSON.stringify recurses natively and overflows the stack on deep nesting (a fork chain a few
// thousand sessions deep). This writer keeps its own stack, so depth costs memory, never a crash.

type Task = { text: string } | { value: unknown };

/**
 * The JSON text of `value`, as `JSON.stringify(value)` gives it (`toJSON` honoured, `undefined`,
 * functions and symbols dropped from objects and written `null` in arrays), at any depth.
 */
export function stringifyDeep(value: unknown): string {
  const out: string[] = [];
  const stack: Task[] = [{ value }];
  while (stack.length > 0) {
    const task = stack.pop() as Task;
    if ('text' in task) {
      out.push(task.text);
      continue;
    }
    let current = task.value;
    if (
      current !== null &&
      typeof current === 'object' &&
      typeof (current as { toJSON?: unknown }).toJSON === 'function'
    ) {
      current = (current as { toJSON(): unknown }).toJSON();
    }
    if (current === null || typeof current !== 'object') {
      out.push(JSON.stringify(current) ?? 'null');
      continue;
    }
    if (Array.isArray(current)) {
      stack.push({ text: ']' });
      for (let i = current.length - 1; i >= 0; i--) {
        stack.push({ value: current[i] });
        if (i > 0) stack.push({ text: ',' });
      }
      stack.push({ text: '[' });
      continue;
    }
    const entries = Object.entries(current).filter(([, item]) => isSerialisable(item));
    stack.push({ text: '}' });
    for (let i = entries.length - 1; i >= 0; i--) {
      const [key, item] = entries[i] as [string, unknown];
      stack.push({ value: item });
      stack.push({ text: `${i > 0 ? ',' : ''}${JSON.stringify(key)}:` });
    }
    stack.push({ text: '{' });
  }
  return out.join('');
}

function isSerialisable(value: unknown): boolean {
  return value !== undefined && typeof value !== 'function' && typeof value !== 'symbol';
}
