// Passkey ceremonies for the Security page and the second step of
// sign-in. A button with data-passkey="register" or "login" asks the
// server (data-begin) for the ceremony's options, runs it in the browser,
// and posts the authenticator's answer with the form named by data-form.
(function () {
  'use strict';

  function toBuffer(s) {
    s = s.replace(/-/g, '+').replace(/_/g, '/');
    while (s.length % 4) { s += '='; }
    var bin = atob(s);
    var out = new Uint8Array(bin.length);
    for (var i = 0; i < bin.length; i++) { out[i] = bin.charCodeAt(i); }
    return out.buffer;
  }

  function toBase64URL(buf) {
    if (!buf) { return null; }
    var bytes = new Uint8Array(buf);
    var s = '';
    for (var i = 0; i < bytes.length; i++) { s += String.fromCharCode(bytes[i]); }
    return btoa(s).replace(/\+/g, '-').replace(/\//g, '_').replace(/=+$/, '');
  }

  function descriptors(list) {
    return (list || []).map(function (c) { return Object.assign({}, c, { id: toBuffer(c.id) }); });
  }

  function creationOptions(o) {
    var pk = o.publicKey;
    pk.challenge = toBuffer(pk.challenge);
    pk.user.id = toBuffer(pk.user.id);
    pk.excludeCredentials = descriptors(pk.excludeCredentials);
    return { publicKey: pk };
  }

  function requestOptions(o) {
    var pk = o.publicKey;
    pk.challenge = toBuffer(pk.challenge);
    pk.allowCredentials = descriptors(pk.allowCredentials);
    return { publicKey: pk };
  }

  function attestation(cred) {
    var r = cred.response;
    return {
      id: cred.id, rawId: toBase64URL(cred.rawId), type: cred.type,
      response: {
        clientDataJSON: toBase64URL(r.clientDataJSON),
        attestationObject: toBase64URL(r.attestationObject),
        transports: r.getTransports ? r.getTransports() : []
      },
      clientExtensionResults: cred.getClientExtensionResults()
    };
  }

  function assertion(cred) {
    var r = cred.response;
    return {
      id: cred.id, rawId: toBase64URL(cred.rawId), type: cred.type,
      response: {
        clientDataJSON: toBase64URL(r.clientDataJSON),
        authenticatorData: toBase64URL(r.authenticatorData),
        signature: toBase64URL(r.signature),
        userHandle: toBase64URL(r.userHandle)
      },
      clientExtensionResults: cred.getClientExtensionResults()
    };
  }

  function problem(form, text) {
    var p = form.querySelector('#passkey-problem');
    if (p) { p.textContent = text; p.hidden = false; }
  }

  function run(button) {
    var form = document.getElementById(button.dataset.form);
    var register = button.dataset.passkey === 'register';
    if (!window.PublicKeyCredential) {
      problem(form, 'This browser does not support passkeys.');
      return;
    }
    button.disabled = true;
    fetch(button.dataset.begin, { method: 'POST', credentials: 'same-origin', headers: { Accept: 'application/json' } })
      .then(function (res) {
        return res.json().then(function (body) {
          if (!res.ok) { throw new Error(body.message || 'The server refused to start.'); }
          return body;
        });
      })
      .then(function (options) {
        return register ? navigator.credentials.create(creationOptions(options))
          : navigator.credentials.get(requestOptions(options));
      })
      .then(function (cred) {
        form.elements.credential.value = JSON.stringify(register ? attestation(cred) : assertion(cred));
        form.submit();
      })
      .catch(function (err) {
        button.disabled = false;
        problem(form, 'The passkey did not work: ' + (err && err.message ? err.message : 'try again') + '.');
      });
  }

  document.querySelectorAll('[data-passkey]').forEach(function (button) {
    button.addEventListener('click', function () { run(button); });
  });
}());
