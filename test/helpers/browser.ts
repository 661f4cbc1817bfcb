/**
 * Chromium for the dashboard's browser tests (playwright-core, the
 * machine's own chromium; .ci/system-deps installs it): a throw-away
 * profile, no network but the test's own server on loopback (any other
 * request is aborted and recorded), and a patient page (two shared cores).
 */
import { existsSync, mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import type { Page } from 'playwright-core'

export const CHROMIUM = '/usr/bin/chromium'

/** The skip reason of a browser test: false where Chromium is installed. */
export const noChromium: false | string = existsSync(CHROMIUM) ? false : `${CHROMIUM} is not installed (.ci/system-deps installs it)`

/** A page that may load only from `base`; `offsite` lists what it tried to load elsewhere. Closed at t's teardown. */
export async function loopbackPage(t: { teardown: (fn: () => unknown) => void }, base: string): Promise<{ page: Page; offsite: string[] }> {
  const { chromium } = await import('playwright-core')
  const profile = mkdtempSync(join(tmpdir(), 'bw-chromium-'))
  t.teardown(() => rmSync(profile, { recursive: true, force: true }))
  const context = await chromium.launchPersistentContext(profile, {
    executablePath: CHROMIUM,
    args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking', '--disable-component-update', '--disable-sync'],
    viewport: { width: 1200, height: 900 }
  })
  t.teardown(() => context.close())
  // Loopback only: any other request is aborted, and the test can check none was made.
  const offsite: string[] = []
  await context.route('**/*', async route => {
    const url = route.request().url()
    if (url.startsWith(base)) await route.continue()
    else {
      offsite.push(url)
      await route.abort()
    }
  })
  const page = await context.newPage()
  page.setDefaultTimeout(45_000) // two shared cores: be patient, not flaky
  return { page, offsite }
}
