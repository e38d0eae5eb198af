/** A space: one agent and one session tree, owned by a user. Timestamps are ISO-8601. */
export interface Space {
  id: string;
  userId: string;
  label: string;
  systemPrompt: string | null;
  consolidatePrompt: string | null;
  integratePrompt: string | null;
  config: Record<string, unknown>;
  createdAt: string;
  updatedAt: string;
}

/** A validated new space, as `SpaceStore.create` takes it (the caller checks the values). */
export interface NewSpace {
  userId: string;
  label: string;
  systemPrompt: string | null;
  consolidatePrompt: string | null;
  integratePrompt: string | null;
  config: Record<string, unknown>;
}

/** The validated fields of a space to change; absent fields stay, `null` clears a prompt. */
export type SpacePatch = Partial<
  Pick<NewSpace, 'label' | 'systemPrompt' | 'consolidatePrompt' | 'integratePrompt' | 'config'>
>;

/** A page of a user's spaces, oldest first; `after` is the last id of the previous page. */
export interface SpacePage {
  limit?: number;
  after?: string;
}

/**
 * Where spaces are kept. Each write is atomic: a space never exists without its root session
 * (role `main`, labelled like the space), and the root's label and `system_prompt` slot follow
 * the space's. Ids are uuids; the caller validates every value first.
 */
export interface SpaceStore {
  /**
   * Creates the space and its root in one write.
   * @throws StorageError `INVALID_REFERENCE` when the user does not exist
   */
  create(space: NewSpace): Promise<Space>;
  /** The space, or `null` when it does not exist. */
  get(spaceId: string): Promise<Space | null>;
  /** Applies `patch` (a non-empty one) in one write; `null` when the space does not exist. */
  update(spaceId: string, patch: SpacePatch): Promise<Space | null>;
  /** The user's spaces, oldest first, ties broken by id. */
  list(userId: string, page?: SpacePage): Promise<Space[]>;
  /** Deletes the space with its sessions and data; `false` when it did not exist. */
  delete(spaceId: string): Promise<boolean>;
}
