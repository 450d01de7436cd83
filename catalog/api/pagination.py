from django.conf import settings
from rest_framework.exceptions import ValidationError
from rest_framework.pagination import PageNumberPagination


class StandardPagination(PageNumberPagination):
    """Page numbers; `page_size` from 1 to API_MAX_PAGE_SIZE (larger is capped; anything else is a 400)."""

    page_size_query_param = "page_size"
    max_page_size = settings.API_MAX_PAGE_SIZE

    def get_page_size(self, request):
        raw = request.query_params.getlist(self.page_size_query_param)
        # Digits only; a number too long to bother converting (thousands of digits) is simply large.
        whole = [value.isascii() and value.isdigit() and (len(value) > 9 or int(value) >= 1) for value in raw]
        if not all(whole):
            message = f"A whole number from 1 (larger than {self.max_page_size} is capped)."
            raise ValidationError({self.page_size_query_param: [message]})
        if raw and len(raw[-1]) > 9:
            return self.max_page_size
        return super().get_page_size(request)

    def get_schema_operation_parameters(self, view):
        parameters = super().get_schema_operation_parameters(view)
        for parameter in parameters:
            if parameter["name"] == self.page_size_query_param:
                parameter["schema"]["minimum"] = 1
        return parameters
