import yaml from 'js-yaml';

/** A cloud-config `write_files` entry. */
export interface WriteFile {
  path: string;
  content: string;
  permissions: string;
  owner?: string;
}

/** Renders user data: the `#cloud-config` marker cloud-init requires on line 1, comment lines, then the config. */
export function renderCloudConfig(comment: readonly string[], config: Record<string, unknown>): string {
  const lines = comment.map((line) => (line ? `# ${line}` : '#'));
  return ['#cloud-config', ...lines, yaml.dump(config, { lineWidth: -1, noRefs: true })].join('\n');
}

export function file(path: string, content: string, permissions: string): WriteFile {
  return { path, content, permissions, owner: 'root:root' };
}

/** Quotes a value for a POSIX shell assignment: single quotes, any single quote closed, escaped and reopened. */
export function shellQuote(value: string): string {
  return `'${value.replaceAll("'", "'\\''")}'`;
}
