"""The security administrator's flag becomes a role (三员分立, issue #16; decision 0019).

Before the fields change, every officer flagged ``is_security_admin``:

- a 系统管理员 (role ``admin``) becomes a 安全管理员 (role ``security_admin``): one account holds
  one administrator's powers, and the flag was what made them reset passwords;
- a superuser keeps its superuser status (installation only; it still resets passwords);
- any other officer (a flagged 招商干部, 局领导…) keeps their role and loses the flag: a person
  who works on business records does not also hold the security administrator's powers.
  Their usernames are printed, so the installer appoints a security administrator (a
  security_admin account) in their place.

The reverse sets the flag back on every security administrator (their role stays).
"""

from django.db import migrations


def flag_to_role(apps, schema_editor):
    Officer = apps.get_model("officers", "Officer")
    flagged = Officer.objects.filter(is_security_admin=True)
    flagged.filter(role="admin", is_superuser=False).update(role="security_admin")
    dropped = list(
        flagged.exclude(role__in=["admin", "security_admin"])
        .filter(is_superuser=False)
        .values_list("username", flat=True)
    )
    if dropped:
        print(
            "\n  security administrator's flag removed from officers who are no administrator"
            f" (appoint a security_admin account instead): {', '.join(sorted(dropped))}"
        )


def role_to_flag(apps, schema_editor):
    Officer = apps.get_model("officers", "Officer")
    Officer.objects.filter(role="security_admin").update(is_security_admin=True)


class Migration(migrations.Migration):

    dependencies = [
        ('officers', '0010_officer_phone_encrypt_existing_rows'),
    ]

    operations = [
        migrations.RunPython(flag_to_role, role_to_flag),
    ]
