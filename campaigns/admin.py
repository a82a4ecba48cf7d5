from django.contrib import admin

from campaigns.models import Campaign
from config.admin import HistoryAdmin


@admin.register(Campaign)
class CampaignAdmin(HistoryAdmin):
    list_display = ["name", "purpose", "dialing_mode", "subject", "status", "window_start", "window_end"]
    list_filter = ["status", "purpose", "dialing_mode"]
    search_fields = ["name", "subject"]
    show_full_result_count = False
    readonly_fields = ["created_by", "created_at", "updated_at"]
