/**
 * The one scripted test model of the workspace (also importable alone from
 * `@internal/testing/scripted-llm`, without loading the database helpers).
 */
export { flush, gate } from './async';
export {
  callTool,
  createScriptedLLM,
  lastMessage,
  type ScriptedCall,
  type ScriptedLLM,
  type ScriptedLLMOptions,
  type ScriptedReply,
  type ScriptedStep,
} from './scripted-llm';
