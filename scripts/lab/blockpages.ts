/**
 * The bodies isp's blockpage server sends. Each matches one of OONI's HTTP
 * blockpage fingerprints (../shared/data/blocking-fingerprints), so a probe
 * that matches fingerprints can confirm the block. test/lab checks the match.
 */

/** Status 200: the Iranian national blockpage's iframe (OONI HTTP fingerprint ooni.ir_0, "iframe src=\"http://10.10"). */
export const BLOCKPAGE_200 =
  '<html><head><meta http-equiv="Content-Type" content="text/html; charset=utf-8"><title>M1-6</title></head>' +
  '<body><iframe src="http://10.10.34.34:80" style="width: 100%; height: 100%" scrolling="no" frameborder="0"></iframe></body></html>\n'
/**
 * A blockpage no fingerprint knows (issue 15): short (about half a lab
 * site's page), its own title, and served with common headers only, so only
 * a comparison with the control's page can tell it from the site.
 */
export const BLOCKPAGE_PLAIN = '<html><head><title>Notice</title></head><body><p>This page is not available.</p></body></html>\n'
/** Status 403: the Belgian blockpage's sentence (OONI HTTP fingerprint ooni.be_0). */
export const BLOCKPAGE_403 =
  '<html><head><title>Blocked</title></head><body><h1>Access denied</h1>' +
  '<p>You are being redirected to this page because the site you tried to visit offers content that is considered illegal according to Belgian legislation.</p></body></html>\n'
