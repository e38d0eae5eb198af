/**
 * The shapes the space and user contracts test, restated structurally so that this package does
 * not depend on `@stello-ai/storage` (whose tests depend on it); `SpaceStore` and `UserKeyStore`
 * there satisfy them.
 */
export interface ContractSpaceRecord {
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

type NewSpaceInput = Omit<ContractSpaceRecord, 'id' | 'createdAt' | 'updatedAt'>;

export interface ContractSpaceStore {
  create(space: NewSpaceInput): Promise<ContractSpaceRecord>;
  get(spaceId: string): Promise<ContractSpaceRecord | null>;
  update(spaceId: string, patch: Partial<Omit<NewSpaceInput, 'userId'>>): Promise<ContractSpaceRecord | null>;
  list(userId: string, page?: { limit?: number; after?: string }): Promise<ContractSpaceRecord[]>;
  delete(spaceId: string): Promise<boolean>;
}

export interface ContractUserRecord {
  id: string;
  name: string;
  keyPrefix: string | null;
  createdAt: string;
  keyRevokedAt: string | null;
}

export interface ContractUserKeyStore {
  createUser(name: string, key: { hash: string; prefix: string }): Promise<ContractUserRecord>;
  findByKeyHash(hash: string): Promise<{ userId: string; keyHash: string } | null>;
  findByKeyPrefix(prefix: string, limit: number): Promise<string[]>;
  replaceKey(userId: string, key: { hash: string; prefix: string }): Promise<boolean>;
  revokeKey(userId: string): Promise<boolean>;
  listUsers(): Promise<ContractUserRecord[]>;
}

/** The account stores of one backend: spaces and the users who own them. */
export interface AccountStoresFixture {
  spaces: ContractSpaceStore;
  users: ContractUserKeyStore;
  cleanup?: () => Promise<void>;
}

/** Builds fresh account stores (or fresh views of a shared database); called once per test. */
export type AccountStoresFactory = () => Promise<AccountStoresFixture>;
