export { startFakeAnthropic } from './start-fake-anthropic';
export { startFakeOpenAI } from './start-fake-openai';
export type {
  FakeLLMServer,
  FakeLLMServerOptions,
  FakeReply,
  FakeRequest,
  FakeRequestOutcome,
  FakeScript,
  FakeToolCall,
} from './types';
