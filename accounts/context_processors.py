from accounts.roles import AGENTS, COMPLIANCE_OFFICERS, MANAGERS, has_role


def roles(request):
    user = request.user
    return {
        "is_agent": has_role(user, AGENTS),
        "is_compliance_officer": has_role(user, COMPLIANCE_OFFICERS),
        "is_manager": has_role(user, MANAGERS),
    }
