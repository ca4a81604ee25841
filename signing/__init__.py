"""docsvc's signing library: PAdES signatures per Decree 30/2020, keys (PKCS#12, PKCS#11), an
internal CA with CRL/OCSP/TSA, validation reports and long-term validity. See README.md."""

import logging
import warnings

# pyHanko logs validation failures (with tracebacks) as warnings; a validation report carries them
# already. Without this, an application that configured no logging would print them on stderr via
# logging's last-resort handler; with it they still reach any handler the application installs.
for _name in ("pyhanko", "pyhanko_certvalidator"):
    logging.getLogger(_name).addHandler(logging.NullHandler())

# pyHanko's CMS module imports cryptography's DSA key class (for isinstance checks) at import time, and
# cryptography 51 deprecates DSA with a warning on that very import, printed once by every process that
# signs or validates. This library never creates or accepts DSA keys (RSA and EC only), so that one
# warning, raised from pyHanko's import, says nothing to our users: ignore it there and nowhere else.
warnings.filterwarnings("ignore", message="DSA is deprecated", module=r"pyhanko\.")
