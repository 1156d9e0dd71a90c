import { SagError } from '../errors.js';

/** Longest free-text description any resource accepts. */
export const MAX_DESCRIPTION_LENGTH = 256;

const NAME_RULE =
  'names are 2-128 characters, start with an English letter, then letters, digits, spaces, ".", "_" or "-", and do not end with a space';

/** Why a name breaks the rule of SPEC §3, or null when it is valid. */
function nameProblem(name: string): string | null {
  if (name.length < 2) return 'is shorter than 2 characters';
  if (name.length > 128) return `is ${name.length} characters long (at most 128)`;
  if (!/^[A-Za-z]$/.test(name[0])) return `starts with "${name[0]}", not an English letter`;
  const bad = /[^A-Za-z0-9 ._-]/.exec(name);
  if (bad) return `contains "${bad[0]}" at position ${bad.index + 1}`;
  if (name.endsWith(' ')) return 'ends with a space';
  return null;
}

/**
 * Checks a resource name (gateway, CCN, CEN, VPC, ACL, security group, ...). Throws INVALID_NAME
 * naming the field, the value and what is wrong with it; returns the name unchanged.
 */
export function validateName(name: string, field: string): string {
  const problem = typeof name === 'string' ? nameProblem(name) : 'is not a string';
  if (problem) {
    throw new SagError('INVALID_NAME', `${field}: "${String(name)}" ${problem}; ${NAME_RULE}`, {
      field,
      value: name,
    });
  }
  return name;
}

/** Descriptions are free text, only bounded in length. */
export function validateDescription(description: string | undefined, field: string): string | undefined {
  if (description === undefined) return undefined;
  if (typeof description !== 'string' || description.length > MAX_DESCRIPTION_LENGTH) {
    throw new SagError(
      'INVALID_ARGUMENT',
      `${field}: a description is text of at most ${MAX_DESCRIPTION_LENGTH} characters`,
      { field, maxLength: MAX_DESCRIPTION_LENGTH },
    );
  }
  return description;
}
