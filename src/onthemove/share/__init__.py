"""Share: exports that other tools can read and check without onthemove.

HXL-tagged CSV for HDX and HXL tools (``hxl_export``) and Frictionless Data Packages with
Table Schemas, licences and sources (``frictionless_export``).
"""

from onthemove.share.frictionless_export import export_package, table_schema
from onthemove.share.hxl_export import export_hxl, export_records, hxl_tags_for

__all__ = ["export_hxl", "export_package", "export_records", "hxl_tags_for", "table_schema"]
