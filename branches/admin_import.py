"""django-import-export in the scoped admin: import and export with the confirm step.

Import is offered to whoever may add in that admin (their scope decides what the rows may
touch); export to whoever may view, and exports only the rows the admin list shows them.
The resource is told who the user is, so it scopes its look-ups and writes through services.
"""

from import_export.admin import ImportExportMixin
from import_export.formats import base_formats


class ScopedImportExportMixin(ImportExportMixin):
    formats = [base_formats.XLSX, base_formats.CSV]

    def get_import_resource_kwargs(self, request, **kwargs):
        return {**super().get_import_resource_kwargs(request, **kwargs), "user": request.user}

    def get_export_resource_kwargs(self, request, **kwargs):
        return {**super().get_export_resource_kwargs(request, **kwargs), "user": request.user}

    def has_import_permission(self, request):
        return self.has_add_permission(request)

    def has_export_permission(self, request):
        return self.has_view_permission(request)
