"""The connected side's network layer: the one HTTP client (``http``), the one streaming read
(``stream``), the one downloader into the content-addressed cache (``download``, ``partfile``,
``cache``) and what locking downloads (``lockfetch``).  Nothing outside this package opens an HTTP
connection; nothing of the offline side imports it."""
