/** Texts of every script the token estimate must hold for, checked against real tokenizers. */
export const TOKEN_CORPUS: Readonly<Record<string, string>> = {
  chinese:
    '我们今天讨论一下这个项目的整体架构。会话是最小的单位，每个会话都有自己的历史记录、系统提示和长期记忆。' +
    '主会话负责综合所有分支的内容，并把洞察下发给子会话。当历史太长时，系统会把旧的消息压缩成摘要，' +
    '这样模型的上下文窗口就不会被撑爆。请注意：中文每个字大约消耗一个词元，有些生僻字甚至更多，比如龘、靐、齉、爩。' +
    '数据库使用PostgreSQL，每个租户的数据都限定在自己的空间里，任何查询都必须带上空间标识。',
  chineseDialogue:
    '用户：你好，能帮我写一份周报吗？\n助手：当然可以。请告诉我这周完成了哪些工作、遇到了什么问题、下周打算做什么。\n' +
    '用户：这周修复了三个缺陷，上线了登录页面，和产品经理开了两次会。\n助手：好的，下面是周报草稿：\n一、本周完成\n1. 修复缺陷三个；\n2. 登录页面上线；\n二、下周计划……',
  japanese:
    '吾輩は猫である。名前はまだ無い。どこで生れたかとんと見当がつかぬ。何でも薄暗いじめじめした所でニャーニャー泣いていた事だけは記憶している。' +
    'カタカナのテキストも含めます：コンピューター、プログラミング、データベース、セッション、トークン。ひらがなだけのぶんしょうもためしてみましょう。',
  korean:
    '안녕하세요. 오늘은 세션 관리와 토큰 예산에 대해 이야기하겠습니다. 긴 대화에서는 오래된 메시지를 요약해서 컨텍스트 창을 넘지 않도록 해야 합니다.',
  english:
    'The session is the smallest unit of the conversation tree. Each session keeps its own history, system prompt ' +
    'and long-term memory. When the history grows beyond the budget, older messages are summarised, so the prompt ' +
    "never exceeds the model's context window. Internationalization, antidisestablishmentarianism and " +
    'pneumonoultramicroscopicsilicovolcanoconiosis are long words; a, an, the and of are short ones.',
  mixed:
    '我们用 TypeScript 写了一个 session 管理库，支持 OpenAI-compatible 和 Anthropic 两种 adapter。' +
    '运行 `pnpm vitest run packages/session` 可以跑测试；版本要求 Node >= 22.12，PostgreSQL 15+。' +
    'Let me know if 这个 API 的设计 makes sense 吗？日本語も少し：よろしくお願いします。',
  code: `import { assembleTurnPrompt } from './context';

export async function runTurn(session: Session, input: string): Promise<string> {
  const draft = await session.beginTurn(input, { lease: { owner: 'worker-1', ttlMs: 30_000 } });
  try {
    const result = await draft.call({ maxTokens: 1024 });
    await draft.commit();
    return result.content ?? '';
  } catch (error) {
    await draft.release();
    throw error;
  }
}

const table = { id: 0x1f600, values: [1, 22, 333, 4444, 55555], nested: { a: [], b: {} } };
if (table.values.length !== 5 && !table.nested) console.log("unreachable", JSON.stringify(table, null, 2));
`,
  json: JSON.stringify({
    toolCalls: [{ id: 'call_abc123', name: 'search_docs', input: { query: '上下文 长度', limit: 10 } }],
    usage: { promptTokens: 12345, completionTokens: 678 },
  }),
  emoji:
    '今天心情很好😀🎉！Great job 👍👍🏽 👨‍👩‍👧‍👦 family, ❤️ love, 🇨🇳🇯🇵 flags, 🤖 robots, ✨🔥💯 sparkle fire hundred.',
  numbers:
    '3.14159265358979 2718281828 1234567890 2026-12-04T18:22:40Z 192.168.0.1 +86 138 0013 8000 ¥1,299.00',
  russian:
    'Привет! Сегодня мы поговорим о бюджете токенов и о том, как не переполнить контекстное окно модели.',
  arabic: 'مرحبا بكم. اليوم سنتحدث عن إدارة الجلسات وميزانية الرموز في المحادثات الطويلة.',
  thai: 'สวัสดีครับ วันนี้เราจะพูดถึงการจัดการเซสชันและงบประมาณโทเค็น',
};
