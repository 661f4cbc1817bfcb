/**
 * The page shell every dashboard page shares: head, navigation, footer, and
 * the security headers. Scripts load only from our own origin (no CDN, no
 * inline script): page data travels in `<script type="application/json">`
 * blocks that the browser never executes.
 */
import { createHash } from 'node:crypto'
import type { FastifyReply } from 'fastify'
import { html, type HtmlValue, type SafeHtml } from './html.ts'
import { STATIC_PREFIX } from './static.ts'

/**
 * The options every page route is registered with (routes/dashboard.ts):
 * out of /openapi.json. A page with query parameters adds its querystring
 * schema, the one schema fastify checks.
 */
export interface PageRoute {
  schema: { hide: true, querystring?: Record<string, unknown> }
}

/** A page route's options with its query-string schema (the one schema fastify checks). */
export function withQuery (route: PageRoute, querystring: Record<string, unknown>): PageRoute {
  return { ...route, schema: { ...route.schema, querystring } }
}

/** What a page passes to {@link page}. */
export interface PageOptions {
  /** The document title (text, escaped). */
  title: string
  /** The page body. */
  body: SafeHtml
  /** Scripts under the static prefix to load at the end of the body (file names). */
  scripts?: string[]
  /** Extra stylesheets under the static prefix (file names). */
  styles?: string[]
  /** Breadcrumb trail: [label, href] pairs; the last one is the current page. */
  crumbs?: Array<[string, string]>
}

/**
 * Content-Security-Policy for every dashboard page: defence in depth behind
 * the escaping, so that even a missed escape cannot run a script.
 */
export const DASHBOARD_CSP = cspWithStyles([])

/**
 * The dashboard's policy, with inline `<style>` blocks allowed by their
 * SHA-256 (a page that must stand alone, such as the block report's HTML,
 * carries its stylesheet inline); nothing else is loosened.
 */
export function cspWithStyles (inlineStyles: readonly string[], styleHashes: readonly string[] = []): string {
  const hashes = [...inlineStyles.map(css => 'sha256-' + createHash('sha256').update(css, 'utf8').digest('base64')), ...styleHashes].map(h => ` '${h}'`).join('')
  return [
    "default-src 'self'",
    "script-src 'self'",
    `style-src 'self'${hashes}`,
    "img-src 'self' data:",
    "object-src 'none'",
    "base-uri 'none'",
    "form-action 'self'",
    "frame-ancestors 'none'"
  ].join('; ')
}

/**
 * The policy of swagger-ui at /docs, as tight as it works (checked in
 * Chromium by test/dashboard/dashboard.test.ts): its page loads its scripts
 * and stylesheets from /docs/static, its logo is a data: URL, and it fetches
 * the OpenAPI document from the aggregator.
 */
export const DOCS_CSP = cspWithStyles([], ['sha256-RL3ie0nH+Lzz2YNqQN83mnU0J1ot4QL7b99vMdIX99w='])

/** Renders a full HTML document. */
export function page (opts: PageOptions): SafeHtml {
  const crumbs: HtmlValue = opts.crumbs === undefined || opts.crumbs.length === 0
    ? null
    : html`<nav class="crumbs" aria-label="breadcrumb">${opts.crumbs.map(([label, href], i) =>
        i === opts.crumbs!.length - 1
          ? html`<span aria-current="page">${label}</span>`
          : html`<a href="${href}">${label}</a> › `)}</nav>`
  return html`<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<meta name="referrer" content="no-referrer">
<title>${opts.title} · blockwatch</title>
<link rel="stylesheet" href="${STATIC_PREFIX}palette.css">
<link rel="stylesheet" href="${STATIC_PREFIX}dashboard.css">
${(opts.styles ?? []).map(s => html`<link rel="stylesheet" href="${STATIC_PREFIX + s}">\n`)}
</head>
<body>
<header class="top">
  <a class="brand" href="/">blockwatch</a>
  <nav><a href="/">Overview</a> <a href="/probes">Probe operators</a> <a href="/docs">API</a></nav>
</header>
<main>
${crumbs}
${opts.body}
</main>
<footer>blockwatch, a network-censorship observatory. Times are UTC. Data is public; probe identities are not.</footer>
${(opts.scripts ?? []).map(s => html`<script src="${STATIC_PREFIX + s}"></script>\n`)}
</body>
</html>
`
}

/** The form of a page that a token unlocks: the token goes in the POST body, never in a URL. */
export function tokenForm (action: string, label: string, button: string): SafeHtml {
  return html`<form method="post" action="${action}" class="filters" autocomplete="off">
<label>${label} <input type="password" name="token" size="48" required></label>
<button type="submit">${button}</button>
</form>
<p class="notice">The token stays in this request's body: it is never put in a URL, stored or logged.</p>`
}

/** Sends a page that shows what a token unlocked: never cached. */
export async function sendPrivatePage (reply: FastifyReply, title: string, body: SafeHtml, status = 200): Promise<FastifyReply> {
  reply.header('cache-control', 'no-store')
  return await sendPage(reply, page({ title, body, crumbs: [['Overview', '/'], [title, '']] }), status)
}

/** Sends a rendered page with the dashboard's headers. */
export async function sendPage (reply: FastifyReply, doc: SafeHtml, status = 200): Promise<FastifyReply> {
  return await reply
    .code(status)
    .header('content-type', 'text/html; charset=utf-8')
    .header('content-security-policy', DASHBOARD_CSP)
    .header('x-content-type-options', 'nosniff')
    .header('referrer-policy', 'no-referrer')
    .send(doc.value)
}

/** A page that says what went wrong, in words (404s, bad parameters, limits), with the error's code when there is one. */
export function errorPage (title: string, message: string, code?: string): SafeHtml {
  return page({ title, body: html`<h1>${title}</h1><p class="notice" id="error-message">${message}</p>${code === undefined ? null : html`<p class="error-code">Code: <code id="error-code">${code}</code></p>`}<p><a href="/">Back to the overview</a></p>` })
}
