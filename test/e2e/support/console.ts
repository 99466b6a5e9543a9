import { randomBytes } from 'node:crypto';
import { request } from 'node:http';
import type { Locator, Page } from 'playwright-core';

/**
 * The terminal's visible rows (xterm.js's DOM renderer), one line each, trailing blanks dropped.
 * xterm.js renders only while the terminal is in the viewport, so it is scrolled there first.
 */
export async function terminalText(screen: Locator): Promise<string> {
  await screen.scrollIntoViewIfNeeded();
  return screen.evaluate((element) =>
    Array.from(element.querySelectorAll('.xterm-rows > div'))
      .map((row) => (row.textContent ?? '').replace(/\u00a0/g, ' ').trimEnd())
      .join('\n'),
  );
}

/** Types a command line into the terminal as a learner would, and presses Enter. */
export async function typeInTerminal(page: Page, screen: Locator, line: string): Promise<void> {
  await screen.click();
  await page.keyboard.type(line, { delay: 5 });
  await page.keyboard.press('Enter');
}

/**
 * A WebSocket handshake with the console relay over plain HTTP, as any client could send it: the
 * HTTP status (101 when accepted) and, when accepted, the first bytes the relay sent.
 */
export function openConsole(
  baseUrl: string,
  path: string,
  headers: { cookie?: string; origin?: string },
): Promise<{ status: number; firstBytes: string }> {
  return new Promise((resolve, reject) => {
    const req = request(`${baseUrl}${path}`, {
      headers: {
        connection: 'Upgrade',
        upgrade: 'websocket',
        'sec-websocket-version': '13',
        'sec-websocket-key': randomBytes(16).toString('base64'),
        ...(headers.cookie ? { cookie: headers.cookie } : {}),
        ...(headers.origin ? { origin: headers.origin } : {}),
      },
    });
    req.on('response', (response) => {
      response.resume();
      resolve({ status: response.statusCode ?? 0, firstBytes: '' });
    });
    req.on('upgrade', (response, socket, head) => {
      // Frames that came in the same packet as the 101 are handed over here, not as data.
      let received = head.toString('utf8');
      const done = () => {
        socket.destroy();
        resolve({ status: response.statusCode ?? 0, firstBytes: received });
      };
      socket.on('data', (chunk: Buffer) => {
        received += chunk.toString('utf8');
        if (/# $/.test(received)) done();
      });
      socket.on('close', done);
      setTimeout(done, 3_000);
    });
    req.on('error', reject);
    req.end();
  });
}
