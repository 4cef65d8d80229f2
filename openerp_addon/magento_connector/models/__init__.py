# License AGPL-3.0 or later (https://www.gnu.org/licenses/agpl).
from . import magento_backend
from . import magento_backend_store
from . import magento_payment_method
from . import magento_order_status
from . import magento_export_request
from . import magento_run
from . import magento_broken_order
from . import product_template
from . import product_product
from . import product_category
from . import account_tax
