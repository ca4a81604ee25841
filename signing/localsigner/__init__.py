"""``docsvc-signer``: the leader's local signer.

Runs on the signer's own computer, next to their USB token. It talks PKCS#11 to the token, shows
what is being signed (document number, subject, page count, SHA-256), asks for the token PIN once
per batch, and signs the data docsvc prepared. The private key never leaves the token and
nothing but signature values leave this program.

- ``docsvc-signer certificate`` — print the token's certificate (PEM) to register it in docsvc;
- ``docsvc-signer sign --url URL --token API_TOKEN DOC_ID...`` — a batch from the console;
- ``docsvc-signer serve`` — a localhost-only HTTP service the docsvc signing page calls.

It imports neither ``docsvc`` nor pyHanko: python-pkcs11, cryptography and the standard library.
"""
