# License AGPL-3.0 or later (https://www.gnu.org/licenses/agpl).
from . import magento_check_result
from . import magento_tax_mapping
from . import magento_synchronize
