"""Moved to ``resnet_core.selection`` (the one text codec of the library: URL, CLI, editor).

Kept as a re-export under the old names so that a page still importing ``app.state`` works while
the app's pages move; import from ``resnet_core.selection`` instead. Remove once nothing imports it.
"""

from resnet_core.selection import ARCH_KEY, INPUT_KEY, from_query, to_query
from resnet_core.selection import Selection as Choice
from resnet_core.selection import format_input_size as encode_input_size
from resnet_core.selection import parse_input_size as decode_input_size

__all__ = ["ARCH_KEY", "INPUT_KEY", "Choice", "decode_input_size", "encode_input_size", "from_query", "to_query"]
