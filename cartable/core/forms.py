"""Form helpers shared by every app's pages."""


class Accessible:
    """Ties each field to its hint and its error (``aria-describedby``) and marks fields in
    error (``aria-invalid``); the field templates show them under ids built the same way."""

    def full_clean(self):
        super().full_clean()
        self.describe_fields()

    def describe_fields(self):
        for name, field in self.fields.items():
            bound = self[name]
            ids = []
            if field.help_text:
                ids.append(f"{bound.auto_id}_helptext")
            if self.is_bound and name in self.errors:
                ids.append(f"{bound.auto_id}_error")
                field.widget.attrs["aria-invalid"] = "true"
            if ids:
                field.widget.attrs["aria-describedby"] = " ".join(ids)
