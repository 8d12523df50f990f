"""The site file: its model (``model``), its addresses (``addresses``), the AWS access it gives
(``credentials``) and its rules (``rules``).  Imports ``bundler.core`` only."""
