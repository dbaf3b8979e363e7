"""Page-number pagination with a bounded page size: a size or page outside its bounds is a 400, not a guess."""

from rest_framework.exceptions import ValidationError
from rest_framework.pagination import PageNumberPagination

from opsportal.core.bounds import MAX_PAGE


def _bounded_int(request, name: str, *, maximum: int) -> int | None:
    raw = request.query_params.get(name)
    if raw is None or raw == "":  # an optional query parameter sent empty is absent (as DRF reads them)
        return None
    # isascii: "²" is a digit to str.isdigit() and not a number to int().
    if not (raw.isascii() and raw.isdigit()) or len(raw) > 10 or not 1 <= int(raw) <= maximum:
        raise ValidationError({name: [f"Give a whole number from 1 to {maximum}."]})
    return int(raw)


class StandardPagination(PageNumberPagination):
    page_size_query_param = "page_size"
    max_page_size = 200

    def get_page_size(self, request):
        return _bounded_int(request, self.page_size_query_param, maximum=self.max_page_size) or self.page_size

    def paginate_queryset(self, queryset, request, view=None):
        if request.query_params.get(self.page_query_param) not in self.last_page_strings:
            _bounded_int(request, self.page_query_param, maximum=MAX_PAGE)
        return super().paginate_queryset(queryset, request, view)

    def get_schema_operation_parameters(self, view):
        parameters = super().get_schema_operation_parameters(view)
        bounds = {self.page_query_param: MAX_PAGE, self.page_size_query_param: self.max_page_size}
        for parameter in parameters:
            if parameter["name"] in bounds:
                parameter["schema"].update(minimum=1, maximum=bounds[parameter["name"]])
        return parameters
