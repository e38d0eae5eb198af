import { describeStorageContracts } from '@internal/testing/contracts';
import { createInMemoryStores } from './index';

async function space() {
  const { storage, sessions, memory } = createInMemoryStores();
  const root = await sessions.createRoot('Space');
  return { storage, sessions, memory, rootId: root.id };
}

describeStorageContracts('in-memory', async () => ({ ...(await space()), otherSpace: await space() }));
