import { coldSpacesScenario } from './cold-spaces';
import { forksScenario } from './forks';
import { idleSocketsScenario } from './idle-sockets';
import { longSessionScenario } from './long-session';
import { memoryWorkScenario } from './memory-work';
import { realisticLlmScenario } from './realistic-llm';
import { restTurnsScenario } from './rest-turns';
import { statementsScenario } from './statements';
import type { Scenario } from './types';
import { wsStreamsScenario } from './ws-streams';

/** Every scenario, in run order. */
export const SCENARIOS: readonly Scenario[] = [
  restTurnsScenario,
  wsStreamsScenario,
  forksScenario,
  longSessionScenario,
  memoryWorkScenario,
  coldSpacesScenario,
  idleSocketsScenario,
  statementsScenario,
  realisticLlmScenario,
];

export type {
  Figures,
  Mode,
  ResultRow,
  Scenario,
  ScenarioContext,
  ScenarioName,
  ServerTarget,
} from './types';
export { SCENARIO_NAMES } from './types';
