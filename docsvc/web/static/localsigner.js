// "Sign with my token": the page prepares the document on docsvc (session + CSRF), asks the
// leader's own docsvc-signer on 127.0.0.1 to sign the prepared data with the USB token (it shows
// the document and asks the token PIN), then sends the signature value back to docsvc.
// The private key never leaves the token; docsvc-signer answers only this site's origin.
(function () {
  "use strict";
  function csrf(form) { return form.querySelector("input[name=csrf_token]").value; }
  async function json(response) {
    let body = null;
    try { body = await response.json(); } catch (e) { body = null; }
    if (!response.ok) {
      const message = body && body.error ? body.error.message : response.status + " " + response.statusText;
      throw new Error(message);
    }
    return body;
  }
  async function signWithToken(form) {
    const status = form.querySelector("[data-status]");
    const local = "http://127.0.0.1:" + form.dataset.port;
    const say = (text) => { status.textContent = text; };
    try {
      say(form.dataset.msgCert);
      const cert = await json(await fetch(local + "/certificate"));
      say(form.dataset.msgPrepare);
      const headers = {"Content-Type": "application/json", "X-CSRF-Token": csrf(form)};
      const prepared = await json(await fetch(form.dataset.prepareUrl, {
        method: "POST", headers: headers, credentials: "same-origin",
        body: JSON.stringify({certificate: cert.certificate})}));
      say(form.dataset.msgSign);
      const signed = await json(await fetch(local + "/sign", {
        method: "POST", headers: {"Content-Type": "application/json"}, body: JSON.stringify({items: [prepared]})}));
      say(form.dataset.msgFinish);
      const done = await json(await fetch(form.dataset.finishUrl, {
        method: "POST", headers: headers, credentials: "same-origin",
        body: JSON.stringify({prepared_id: prepared.prepared_id, signature: signed.signatures[0].signature})}));
      window.location.assign(done.redirect);
    } catch (e) {
      say(form.dataset.msgError + " " + e.message);
    }
  }
  document.addEventListener("submit", function (event) {
    const form = event.target;
    if (form.matches && form.matches("form[data-local-signer]")) {
      event.preventDefault();
      signWithToken(form);
    }
  });
})();
