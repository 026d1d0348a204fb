// Owns the readable rendering of a memory's content: text stays as it is; a JSON object becomes
// "key: value" lines, nested keys dotted (`build.tool: pnpm`), arrays of scalars joined with ", "
// and arrays of objects numbered (`steps.1.name: lint`). The rendering is what gets embedded and
// compared, and what a human or an agent prompt reads.

export type MemoryContent = string | Record<string, unknown>;

export function renderContent(content: MemoryContent): string {
  if (typeof content === 'string') return content.trim();
  return flattenJson(content)
    .map(([key, value]) => `${key}: ${value}`)
    .join('\n');
}

/** [dotted key, rendered scalar value] pairs of a JSON object, in key order. */
export function flattenJson(value: Record<string, unknown>, prefix = ''): Array<[string, string]> {
  const out: Array<[string, string]> = [];
  for (const [key, item] of Object.entries(value)) {
    const path = prefix ? `${prefix}.${key}` : key;
    if (Array.isArray(item)) {
      if (item.every((element) => !isObject(element) && !Array.isArray(element))) {
        out.push([path, item.map(scalar).join(', ')]);
      } else {
        item.forEach((element, index) => {
          if (isObject(element)) out.push(...flattenJson(element, `${path}.${index + 1}`));
          else if (Array.isArray(element)) out.push(...flattenJson({ [String(index + 1)]: element }, path));
          else out.push([`${path}.${index + 1}`, scalar(element)]);
        });
      }
    } else if (isObject(item)) {
      const nested = flattenJson(item, path);
      out.push(...(nested.length > 0 ? nested : [[path, '{}'] as [string, string]]));
    } else {
      out.push([path, scalar(item)]);
    }
  }
  return out;
}

function isObject(value: unknown): value is Record<string, unknown> {
  return value !== null && typeof value === 'object' && !Array.isArray(value);
}

function scalar(value: unknown): string {
  if (value === null || value === undefined) return 'null';
  if (typeof value === 'string') return value;
  return JSON.stringify(value);
}
