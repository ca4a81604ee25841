"""docsvc's signing library: PAdES signatures per Decree 30/2020, keys (PKCS#12, PKCS#11), an
internal CA with CRL/OCSP/TSA, validation reports and long-term validity. See README.md."""

import logging

# pyHanko logs validation failures (with tracebacks) as warnings; a validation report carries them
# already. Without this, an application that configured no logging would print them on stderr via
# logging's last-resort handler; with it they still reach any handler the application installs.
for _name in ("pyhanko", "pyhanko_certvalidator"):
    logging.getLogger(_name).addHandler(logging.NullHandler())
