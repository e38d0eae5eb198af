import {
  type PgStores,
  PgSubtreeStore,
  resolveSubtreeLimits,
  type SubtreeArchiveResult,
  type SubtreeDocument,
  type SubtreeImportResult,
  type SubtreeLimits,
} from '@stello-ai/storage';
import type { SpaceEventPublisher } from './space-events';

/** Options of `SubtreeService`. */
export interface SubtreeServiceOptions {
  /** Bounds of one export or import (defaults: 1,000 sessions, 50,000 records, 64 MiB). */
  limits?: SubtreeLimits;
  /**
   * Told of what an import or an archive committed: `session.created` per imported session and
   * `session.archived` per archived one (the server publishes them on its control channel).
   */
  publishEvent?: SpaceEventPublisher;
}

/**
 * Subtree operations of the spaces, for the REST routes: export a subtree as JSON, import a
 * document as a new copy, archive a subtree. Each is one statement in `PgSubtreeStore`.
 *
 * No agent cache needs clearing afterwards: an agent reads the tree, and every turn reads its
 * session's state, from PostgreSQL (the history cache is revalidated in the turn's own
 * statement), so the next call through an agent sees the new sessions and the archived ones.
 *
 * @example
 * ```ts
 * const subtrees = new SubtreeService(stores, { publishEvent });
 * const doc = await subtrees.exportSubtree(spaceA, sessionId);
 * const { rootId, idMap } = await subtrees.importSubtree(spaceB, doc, parentId);
 * ```
 */
export class SubtreeService {
  readonly #stores: PgStores;
  readonly #limits: Required<SubtreeLimits>;
  readonly #publish: SpaceEventPublisher | undefined;

  /** @throws SessionError `INVALID_ARGUMENT` for a limit that is not a positive integer */
  constructor(stores: PgStores, options: SubtreeServiceOptions = {}) {
    this.#stores = stores;
    this.#limits = resolveSubtreeLimits(options.limits);
    this.#publish = options.publishEvent;
  }

  /**
   * The subtree under `sessionId` (the whole tree when omitted) as a `stello.subtree` document.
   * @throws SessionError `SESSION_NOT_FOUND`; StorageError `SUBTREE_TOO_LARGE`
   */
  exportSubtree(spaceId: string, sessionId?: string): Promise<SubtreeDocument> {
    return this.#store(spaceId).exportSubtree(sessionId);
  }

  /**
   * Imports `document` as a new subtree under `parentId` (the space's root when omitted).
   * @throws SessionError `INVALID_ARGUMENT`, `SESSION_NOT_FOUND`, `SESSION_ARCHIVED`; StorageError `SUBTREE_TOO_LARGE`
   */
  async importSubtree(spaceId: string, document: unknown, parentId?: string): Promise<SubtreeImportResult> {
    const result = await this.#store(spaceId).importSubtree(document, parentId);
    if (this.#publish) {
      const parents = parentsOf(document as SubtreeDocument, result);
      for (const [relative, sessionId] of Object.entries(result.idMap)) {
        this.#publish({
          kind: 'session.created',
          spaceId,
          sessionId,
          data: { parentId: parents.get(relative) },
        });
      }
    }
    return result;
  }

  /**
   * Archives `sessionId` and its descendants in one statement.
   * @throws SessionError `SESSION_NOT_FOUND`; CoreError `INVALID_OPERATION` for the main session
   */
  async archiveSubtree(spaceId: string, sessionId: string): Promise<SubtreeArchiveResult> {
    const result = await this.#store(spaceId).archiveSubtree(sessionId);
    for (const archivedId of result.archivedIds) {
      this.#publish?.({ kind: 'session.archived', spaceId, sessionId: archivedId });
    }
    return result;
  }

  #store(spaceId: string): PgSubtreeStore {
    return new PgSubtreeStore(this.#stores, spaceId, this.#limits);
  }
}

/** The database id of each imported session's parent, by relative id (the document was validated). */
function parentsOf(document: SubtreeDocument, result: SubtreeImportResult): Map<string, string> {
  const parents = new Map<string, string>();
  for (const session of document.sessions) {
    parents.set(session.id, session.parentId === null ? result.parentId : result.idMap[session.parentId]!);
  }
  return parents;
}
