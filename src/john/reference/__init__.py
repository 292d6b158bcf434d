"""Public registers: providers, qualifications, schools, places, occupations.

Other capabilities use the names exported here; the tests pin the list.
"""

from john.reference.loaders import (
    LOCAL_AUTHORITIES,
    OCCUPATIONS,
    POSTCODES,
    PROVIDERS,
    QUALIFICATIONS,
    REGISTERS,
    SCHOOLS,
    LoadReport,
)
from john.reference.service import (
    SOURCE_LA_CENTROID,
    SOURCE_POSTCODE,
    SOURCE_UNKNOWN,
    Location,
    load_all,
    load_register,
    locate_postcode,
    provider_name,
    register_is_loaded,
)

__all__ = [
    "LOCAL_AUTHORITIES",
    "OCCUPATIONS",
    "POSTCODES",
    "PROVIDERS",
    "QUALIFICATIONS",
    "REGISTERS",
    "SCHOOLS",
    "SOURCE_LA_CENTROID",
    "SOURCE_POSTCODE",
    "SOURCE_UNKNOWN",
    "LoadReport",
    "Location",
    "load_all",
    "load_register",
    "locate_postcode",
    "provider_name",
    "register_is_loaded",
]
