; The Windows installer of stint (NSIS 3, made by `make windows`):
; stint.exe (the command line) and, when the build has it, stint-tracker.exe
; (the tray app), a Start-menu folder and an uninstaller. The uninstaller
; removes the programs and keeps the user's journal and settings
; (%LOCALAPPDATA%\stint, %APPDATA%\stint) unless asked: the component
; "Remove my local data" or /PURGE on its command line. The sign-in token
; lives in the Credential Manager, not in a file; uninstalling leaves it.
;
;   makensis -DVERSION=0.1.0 -DBUILD=<build-win> -DOUTFILE=<...>.exe windows/installer.nsi
Unicode true
Target amd64-unicode
SetCompressor /SOLID lzma

!ifndef VERSION
  !error "give -DVERSION=..."
!endif
!ifndef BUILD
  !error "give -DBUILD=<the cross build folder>"
!endif
!ifndef OUTFILE
  !define OUTFILE "${BUILD}\stint-setup-${VERSION}.exe"
!endif

!include "MUI2.nsh"
!include "LogicLib.nsh"
!include "Sections.nsh"
!include "FileFunc.nsh"
!include "x64.nsh"

!define UNINST_KEY "Software\Microsoft\Windows\CurrentVersion\Uninstall\stint"

Name "stint ${VERSION}"
OutFile "${OUTFILE}"
InstallDir "$PROGRAMFILES64\stint"
InstallDirRegKey HKLM "Software\stint" "InstallDir"
RequestExecutionLevel admin
VIProductVersion "${VERSION}.0"
VIAddVersionKey "ProductName" "stint"
VIAddVersionKey "FileDescription" "stint installer"
VIAddVersionKey "FileVersion" "${VERSION}"
VIAddVersionKey "ProductVersion" "${VERSION}"
VIAddVersionKey "LegalCopyright" "MIT licence"

!insertmacro MUI_PAGE_DIRECTORY
!insertmacro MUI_PAGE_INSTFILES
!insertmacro MUI_UNPAGE_CONFIRM
!insertmacro MUI_UNPAGE_COMPONENTS
!insertmacro MUI_UNPAGE_INSTFILES
!insertmacro MUI_LANGUAGE "English"

Function .onInit
  SetRegView 64
FunctionEnd

Section "stint" SecMain
  SectionIn RO
  SetOutPath "$INSTDIR"
  File "${BUILD}\cli\stint.exe"
!if /FileExists "${BUILD}\windows\tray\stint-tracker.exe"
  File "${BUILD}\windows\tray\stint-tracker.exe"
!endif
  WriteUninstaller "$INSTDIR\uninstall.exe"

  CreateDirectory "$SMPROGRAMS\stint"
!if /FileExists "${BUILD}\windows\tray\stint-tracker.exe"
  CreateShortcut "$SMPROGRAMS\stint\stint tracker.lnk" "$INSTDIR\stint-tracker.exe"
!endif
  CreateShortcut "$SMPROGRAMS\stint\stint command line.lnk" "$SYSDIR\cmd.exe" \
    '/k "$INSTDIR\stint.exe" help' "$INSTDIR\stint.exe"
  CreateShortcut "$SMPROGRAMS\stint\Uninstall stint.lnk" "$INSTDIR\uninstall.exe"

  WriteRegStr HKLM "Software\stint" "InstallDir" "$INSTDIR"
  WriteRegStr HKLM "${UNINST_KEY}" "DisplayName" "stint"
  WriteRegStr HKLM "${UNINST_KEY}" "DisplayVersion" "${VERSION}"
  WriteRegStr HKLM "${UNINST_KEY}" "Publisher" "stint"
  WriteRegStr HKLM "${UNINST_KEY}" "InstallLocation" "$INSTDIR"
  WriteRegStr HKLM "${UNINST_KEY}" "UninstallString" '"$INSTDIR\uninstall.exe"'
  WriteRegStr HKLM "${UNINST_KEY}" "QuietUninstallString" '"$INSTDIR\uninstall.exe" /S'
  WriteRegDWORD HKLM "${UNINST_KEY}" "NoModify" 1
  WriteRegDWORD HKLM "${UNINST_KEY}" "NoRepair" 1
SectionEnd

Section "un.stint" UnSecMain
  SectionIn RO
  Delete "$INSTDIR\stint.exe"
  Delete "$INSTDIR\stint-tracker.exe"
  Delete "$INSTDIR\uninstall.exe"
  RMDir "$INSTDIR"
  Delete "$SMPROGRAMS\stint\stint tracker.lnk"
  Delete "$SMPROGRAMS\stint\stint command line.lnk"
  Delete "$SMPROGRAMS\stint\Uninstall stint.lnk"
  RMDir "$SMPROGRAMS\stint"
  DeleteRegValue HKCU "Software\Microsoft\Windows\CurrentVersion\Run" "stint tracker"
  DeleteRegKey HKLM "${UNINST_KEY}"
  DeleteRegKey HKLM "Software\stint"
SectionEnd

; Not selected unless asked: the journal may hold time not yet on the server.
Section /o "un.Remove my local data (journal, screenshots, settings)" UnSecPurge
  SetShellVarContext current
  RMDir /r "$LOCALAPPDATA\stint"
  RMDir /r "$APPDATA\stint"
SectionEnd

Function un.onInit
  SetRegView 64
  ; /PURGE on the command line (e.g. with /S) also removes the local data.
  ${GetParameters} $0
  ClearErrors
  ${GetOptions} $0 "/PURGE" $1
  ${IfNot} ${Errors}
    !insertmacro SelectSection ${UnSecPurge}
  ${EndIf}
FunctionEnd
