const escape = (text: string) =>
  text.replace(/[&<>"']/g, (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' })[c]!)

/** A page of its own (no script), so signing in works before the console's bundle is allowed to load. */
export function loginPage(product: string, message = ''): string {
  return `<!doctype html>
<html lang="en" data-theme="dark">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>Sign in · ${escape(product)}</title>
<style>
  :root { color-scheme: dark light; font: 16px/1.5 system-ui, sans-serif; }
  body { margin: 0; min-height: 100vh; display: grid; place-items: center; background: #0f1419; color: #e6e9ee; }
  form { width: min(22rem, 90vw); padding: 2rem; border: 1px solid #2b3440; border-radius: 8px; background: #161d25; }
  h1 { font-size: 1.25rem; margin: 0 0 1rem; }
  label { display: block; margin: 1rem 0 .25rem; }
  input { width: 100%; box-sizing: border-box; padding: .6rem; font: inherit; border-radius: 4px; border: 1px solid #3a4553; background: #0f1419; color: inherit; }
  button { margin-top: 1.5rem; width: 100%; padding: .7rem; font: inherit; font-weight: 600; border: 0; border-radius: 4px; background: #4aa3ff; color: #06121f; cursor: pointer; }
  input:focus-visible, button:focus-visible { outline: 3px solid #ffd166; outline-offset: 2px; }
  .error { color: #ff8a80; margin: 0 0 .5rem; }
</style>
</head>
<body>
<form method="post" action="/login">
  <h1>${escape(product)}</h1>
  ${message ? `<p class="error" role="alert">${escape(message)}</p>` : '<p>This console is shared on the network. Sign in to continue.</p>'}
  <label for="name">Your name (kept in the audit log)</label>
  <input id="name" name="name" autocomplete="username" maxlength="64" required autofocus>
  <label for="password">Password or access token</label>
  <input id="password" name="password" type="password" autocomplete="current-password" required>
  <button type="submit">Sign in</button>
</form>
</body>
</html>`
}
