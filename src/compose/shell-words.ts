/**
 * Splits a command written as one string (`command: npm start -- --port 80`) into words the
 * way compose-go does (POSIX shell quoting via shlex): single quotes literal, double quotes
 * with backslash escapes, a backslash escaping the next character outside quotes.
 */

/** The words of `text`; throws Error naming an unclosed quote. */
export function shellWords(text: string): string[] {
  const words: string[] = [];
  let cur = '';
  let inWord = false;
  let quote: '"' | "'" | undefined;
  for (let i = 0; i < text.length; i++) {
    const c = text[i] as string;
    if (quote === "'") {
      if (c === "'") quote = undefined;
      else cur += c;
    } else if (quote === '"') {
      if (c === '"') quote = undefined;
      else if (c === '\\' && i + 1 < text.length && '"\\$`\n'.includes(text[i + 1] as string)) cur += text[++i];
      else cur += c;
    } else if (c === "'" || c === '"') {
      quote = c;
      inWord = true;
    } else if (c === '\\' && i + 1 < text.length) {
      cur += text[++i];
      inWord = true;
    } else if (/\s/.test(c)) {
      if (inWord) words.push(cur);
      cur = '';
      inWord = false;
    } else {
      cur += c;
      inWord = true;
    }
  }
  if (quote !== undefined) throw new Error(`a closing ${quote} quote`);
  if (inWord) words.push(cur);
  return words;
}
