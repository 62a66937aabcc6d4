import type { Server } from 'node:http'
import type { Browser, BrowserContext, Page } from 'playwright-core'
import type { Stack } from '../../scripts/stack'
import { existsSync, mkdirSync, mkdtempSync, rmSync } from 'node:fs'
import { createServer } from 'node:http'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { chromium } from 'playwright-core'
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest'
import { buildConsole } from '../../scripts/console-build'
import { projectRoot, startStack } from '../../scripts/stack'

const chromiumPath = '/usr/bin/chromium'
const resultsDir = join(projectRoot, 'test-results')
const clientTrigger = '__heartbeat_client_trigger'

let stack: Stack
let browser: Browser
let dataDir: string
let consoleOrigin: string
let sink: Server
let sinkUrl: string

function launchBrowser(): Promise<Browser> {
  if (!existsSync(chromiumPath))
    throw new Error(`Chromium is missing at ${chromiumPath}: install Debian's chromium (apt-get install -y chromium) to run the browser tests`)
  return chromium.launch({
    executablePath: chromiumPath,
    args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-background-networking', '--disable-component-update', '--disable-sync', '--no-first-run'],
  })
}

function listen(server: Server): Promise<number> {
  return new Promise((resolve) => {
    server.listen(0, '127.0.0.1', () => {
      const address = server.address()
      resolve(typeof address === 'object' && address ? address.port : 0)
    })
  })
}

/** Returns a URL on 127.0.0.1 where nothing listens. */
async function closedPortUrl(): Promise<string> {
  const server = createServer()
  const port = await listen(server)
  await new Promise(resolve => server.close(resolve))
  return `http://127.0.0.1:${port}/__heartbeat_server_test`
}

/** Calls the server function directly, as a second opinion on what the console did. */
async function callServer(body: Record<string, unknown>): Promise<{ code: number, data?: any }> {
  const response = await fetch(stack.serverUrl, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify(body),
  })
  return response.json() as Promise<{ code: number, data?: any }>
}

/** Returns locale keys shown as text, which is what vue-i18n renders for a missing message. */
async function untranslatedKeys(page: Page): Promise<string[]> {
  const text = await page.locator('#__nuxt').textContent() ?? ''
  return text.match(/\b(?:app|common|server|client|status|settings|actions|errors|timeAgo)\.\w+(?:\.\w+)*/g) ?? []
}

async function screenshotOnFailure(page: Page | undefined, name: string): Promise<void> {
  if (!page || page.isClosed())
    return
  mkdirSync(resultsDir, { recursive: true })
  await page.screenshot({ path: join(resultsDir, `${name.replace(/\W+/g, '-')}.png`), fullPage: true })
}

beforeAll(async () => {
  browser = await launchBrowser()
  // startStack builds too, but building first makes a failed build the reported error.
  await buildConsole(projectRoot, () => {})
  dataDir = mkdtempSync(join(tmpdir(), 'heartbeat-console-'))
  // Two places are enough for the owner flow, and make "registration full" reachable.
  stack = await startStack({ serverPort: 0, clientPort: 0, consolePort: 0, dataDir, cron: null, env: { HEARTBEAT_MAX_CLIENTS: '2' }, log: () => {} })
  consoleOrigin = new URL(stack.consoleUrl!).origin
  sink = createServer((_request, response) => response.end('ok'))
  sinkUrl = `http://127.0.0.1:${await listen(sink)}`
})

afterAll(async () => {
  await browser?.close()
  await stack?.close()
  sink?.close()
  if (dataDir)
    rmSync(dataDir, { recursive: true, force: true })
})

describe('owner flow', () => {
  let context: BrowserContext
  let page: Page
  let key = ''
  const requested = new Set<string>()

  beforeAll(async () => {
    context = await browser.newContext({ viewport: { width: 1280, height: 900 } })
    page = await context.newPage()
    page.on('request', request => requested.add(new URL(request.url()).origin))
  })

  beforeEach(({ task, onTestFailed }) => {
    onTestFailed(() => screenshotOnFailure(page, `owner-flow-${task.name}`))
  })

  afterAll(async () => {
    await context?.close()
  })

  it('shows the server info', async () => {
    await page.goto(`${consoleOrigin}/?server=${encodeURIComponent(stack.serverUrl)}`)
    await expect.poll(() => page.getByTestId('server-name').textContent()).toBe('Laf x Heartbeat')
    expect(await page.getByTestId('server-counts').textContent()).toBe('已激活 0 个 / 已注册 0 个 / 上限 2 个')
    expect(await page.getByTestId('server-latency').textContent()).toMatch(/^\d+ 毫秒$/)
  })

  it('offers to register', async () => {
    await page.getByTestId('client-url-input').fill(stack.clientUrl)
    await page.getByTestId('client-lookup').click()
    await page.getByTestId('client-signup-confirm').waitFor()
    expect(await page.getByTestId('client-panel').getAttribute('data-step')).toBe('confirmSignup')
  })

  it('shows the config values', async () => {
    await page.getByTestId('client-signup-confirm').click()
    await page.getByTestId('client-activate').waitFor()
    expect(await page.getByTestId('config-server-url').inputValue()).toBe(stack.serverUrl)
    key = await page.getByTestId('config-server-key').inputValue()
    expect(key).toMatch(/^[0-9a-f]{64}$/)
    expect(await page.getByTestId('config-env').textContent()).toBe(`HEARTBEAT_SERVER_URL=${stack.serverUrl}\nHEARTBEAT_SERVER_KEY=${key}`)
    expect(await page.getByTestId('client-config-note').textContent()).toContain('密钥只在这一次显示')
    expect(await untranslatedKeys(page)).toEqual([])
  })

  it('explains a failed activation', async () => {
    // The client app does not hold the key yet, so the challenge fails.
    await page.getByTestId('client-activate').click()
    const message = page.getByTestId('client-activate-error-message')
    await message.waitFor()
    expect(await message.textContent()).toContain('客户端函数没有按预期回复服务器的挑战。')
    expect(await page.getByTestId('client-panel').getAttribute('data-step')).toBe('activate')
  })

  it('activates with the key', async () => {
    stack.setClientEnv('HEARTBEAT_SERVER_KEY', key)
    await page.getByTestId('client-activate').click()
    await page.getByTestId('client-status-waiting').waitFor()
    expect(await page.getByTestId('client-last-heartbeat').textContent()).toBe('还没有收到心跳')
  })

  it('shows a live heartbeat', async () => {
    const outcome = await stack.client.runTrigger(clientTrigger) as { ok: boolean }
    expect(outcome.ok).toBe(true)
    await page.getByTestId('client-refresh').click()
    await page.getByTestId('client-status-live').waitFor()
    expect(await page.getByTestId('client-last-heartbeat').textContent()).toBe('刚刚')
    expect(await page.getByTestId('client-error-count').textContent()).toBe('0 / 3')
    expect(await untranslatedKeys(page)).toEqual([])
  })

  it('warns about an empty sendUrl', async () => {
    await page.getByTestId('settings-no-send-url').waitFor()
    expect(await page.getByTestId('settings-save').isDisabled()).toBe(true)
  })

  it('rejects an ftp sendUrl', async () => {
    const sendUrl = page.getByTestId('settings-send-url')
    await sendUrl.fill('ftp://example.com/x')
    await expect.poll(() => page.getByText('必须以 http:// 或 https:// 开头').count()).toBe(1)
    expect(await page.getByTestId('settings-save').isDisabled()).toBe(true)
    await page.getByTestId('settings-discard').click()
    expect(await sendUrl.inputValue()).toBe('')
  })

  it('saves changed settings', async () => {
    const sendUrl = `${sinkUrl}/notice?status={status}&title={title}`
    await page.getByTestId('settings-error-max').locator('input').fill('5')
    await page.getByTestId('settings-error-max').locator('input').press('Tab')
    await page.getByTestId('settings-send-url').fill(sendUrl)
    await page.getByTestId('settings-save').click()
    await page.getByTestId('settings-saved').waitFor()
    expect(await page.getByTestId('client-error-count').textContent()).toBe('0 / 5')
    const stored = await callServer({ action: 'fetch', clientUrl: stack.clientUrl, key })
    expect(stored.data.errorMax).toBe(5)
    expect(stored.data.sendUrl).toBe(sendUrl)
  })

  it('lands on settings after reload', async () => {
    await page.goto(consoleOrigin)
    await page.getByTestId('client-status-live').waitFor()
    expect(await page.getByTestId('client-current-url').textContent()).toBe(stack.clientUrl)
    expect(await page.getByTestId('server-url-input').inputValue()).toBe(stack.serverUrl)
    expect(await page.getByTestId('settings-error-max').locator('input').inputValue()).toBe('5')
  })

  it('pauses the client', async () => {
    await page.getByTestId('client-pause').click()
    await page.getByTestId('client-status-paused').waitFor()
    const stored = await callServer({ action: 'fetch', clientUrl: stack.clientUrl, key })
    expect(stored.data.paused).toBe(true)
  })

  it('deletes the client', async () => {
    await page.getByTestId('client-delete').click()
    await page.getByTestId('client-delete-confirm').click()
    await page.getByTestId('client-removed').waitFor()
    expect(await page.getByTestId('client-panel').getAttribute('data-step')).toBe('enterClient')
    const stored = await callServer({ action: 'fetch', clientUrl: stack.clientUrl })
    expect(stored.data).toEqual({ registered: false, state: null })
    const memory = await page.evaluate(() => localStorage.getItem('laf-heartbeat:console') ?? '')
    expect(memory).not.toContain(key)
  })

  it('requests only console and server', () => {
    expect([...requested].sort()).toEqual([consoleOrigin, new URL(stack.serverUrl).origin].sort())
  })
})

describe('server errors', () => {
  let context: BrowserContext
  let page: Page

  beforeEach(async ({ task, onTestFailed }) => {
    context = await browser.newContext({ viewport: { width: 1280, height: 900 } })
    page = await context.newPage()
    onTestFailed(() => screenshotOnFailure(page, `server-errors-${task.name}`))
    return () => context.close()
  })

  async function connect(url: string, submit: 'click' | 'enter' = 'click'): Promise<string | null> {
    await page.goto(consoleOrigin)
    await page.getByTestId('server-empty').waitFor()
    await page.getByTestId('server-url-input').fill(url)
    if (submit === 'enter')
      await page.getByTestId('server-url-input').press('Enter')
    else
      await page.getByTestId('server-connect').click()
    const message = page.getByTestId('server-error-message')
    await message.waitFor()
    return message.textContent()
  }

  it('rejects a bad server URL', async () => {
    const requested: string[] = []
    page.on('request', request => requested.push(new URL(request.url()).origin))
    expect(await connect('ftp://127.0.0.1/heartbeat')).toBe('URL 必须以 http:// 或 https:// 开头。')
    expect(requested.every(origin => origin === consoleOrigin)).toBe(true)
    expect(await page.getByTestId('server-error-retry').count()).toBe(0)
  })

  it('reports an unreachable server', async () => {
    expect(await connect(await closedPortUrl(), 'enter')).toBe('无法连接到服务器。请检查 URL 是否正确、服务器是否在线，以及它是否允许跨域请求（CORS）。')
    expect(await page.getByTestId('server-error-retry').count()).toBe(1)
  })

  it('reports a non-heartbeat URL', async () => {
    expect(await connect(`${new URL(stack.serverUrl).origin}/no_such_function`)).toBe('这个地址上没有云函数（HTTP 404）。请检查函数名是否正确。')
  })

  it('reports a client URL as no server', async () => {
    expect(await connect(stack.clientUrl)).toBe('这个 URL 看起来不是心跳服务器（HTTP 400）。请确认填写的是心跳服务器函数的 URL。')
  })

  it('switches to English and back', async () => {
    await page.goto(consoleOrigin)
    await page.getByTestId('locale-en').click()
    await expect.poll(() => page.getByTestId('server-empty').locator('p').first().textContent()).toBe('Start with the address of a heartbeat server')
    await page.reload()
    await expect.poll(() => page.locator('html').getAttribute('lang')).toBe('en')
    await page.getByTestId('locale-zh-CN').click()
    await expect.poll(() => page.getByTestId('server-empty').locator('p').first().textContent()).toBe('先输入一个心跳服务器的地址')
  })
})

describe('another browser', () => {
  let context: BrowserContext
  let page: Page
  const keys = new Map<string, string>()

  beforeAll(async () => {
    context = await browser.newContext({ viewport: { width: 1280, height: 900 } })
    page = await context.newPage()
  })

  beforeEach(({ task, onTestFailed }) => {
    onTestFailed(() => screenshotOnFailure(page, `another-browser-${task.name}`))
  })

  afterAll(async () => {
    await context?.close()
  })

  function otherClientUrl(name: string): string {
    return `${new URL(stack.clientUrl).origin}/${name}`
  }

  async function lookUp(clientUrl: string, step: string): Promise<void> {
    await page.goto(`${consoleOrigin}/?server=${encodeURIComponent(stack.serverUrl)}`)
    await page.getByTestId('client-url-input').fill(clientUrl)
    await page.getByTestId('client-lookup').click()
    await expect.poll(() => page.getByTestId('client-panel').getAttribute('data-step')).toBe(step)
  }

  it('shows registration as full', async () => {
    for (const name of ['other_a', 'other_b']) {
      const reply = await callServer({ action: 'signup', clientUrl: otherClientUrl(name) })
      expect(reply.code).toBe(20000)
      keys.set(name, reply.data.key)
    }
    await lookUp(otherClientUrl('other_c'), 'confirmSignup')
    await page.getByTestId('client-signup-full').waitFor()
    expect(await page.getByTestId('client-signup-confirm').count()).toBe(0)
    expect(await page.getByTestId('server-full').count()).toBe(1)
  })

  it('rejects a wrong pasted key', async () => {
    await lookUp(otherClientUrl('other_a'), 'needKey')
    await page.getByTestId('client-key-input').fill('f'.repeat(64))
    await page.getByTestId('client-key-submit').click()
    await page.getByTestId('client-key-rejected').waitFor()
    expect(await page.getByTestId('client-panel').getAttribute('data-step')).toBe('needKey')
  })

  it('opens a client by pasted key', async () => {
    const key = keys.get('other_a')!
    await page.getByTestId('client-key-input').fill(key)
    await page.getByTestId('client-key-submit').click()
    await expect.poll(() => page.getByTestId('client-panel').getAttribute('data-step')).toBe('activate')
    expect(await page.getByTestId('config-server-key').inputValue()).toBe(key)
    expect(await page.getByTestId('client-config-note').textContent()).toBe('密钥保存在本浏览器中，服务器不会再返回它。')
  })

  it('remembers the pasted key', async () => {
    await page.goto(consoleOrigin)
    await expect.poll(() => page.getByTestId('client-panel').getAttribute('data-step')).toBe('activate')
    expect(await page.getByTestId('client-current-url').textContent()).toBe(otherClientUrl('other_a'))
  })
})
